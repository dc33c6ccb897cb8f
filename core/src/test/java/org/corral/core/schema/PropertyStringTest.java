package org.corral.core.schema;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class PropertyStringTest {
    private static final PropertyFormat DISK = PropertyFormat.of()
            .defaultKey("file", Schema.string())
            .key("size", Schema.string().pattern("\\d+[KMGT]?").optional())
            .key("cache", Schema.string().enumValues("none", "writeback").optional())
            .key("iothread", Schema.bool().optional());

    @Test
    void bareFirstValueBelongsToTheDefaultKey() {
        assertThat(PropertyString.parse(DISK, "local:100/vm-100-disk-0.qcow2,size=32G,iothread=1"))
                .containsExactly(Map.entry("file", "local:100/vm-100-disk-0.qcow2"), Map.entry("size", "32G"),
                        Map.entry("iothread", true));
    }

    @Test
    void formatKeepsProxmoxKeyOrderWithBareDefaultKey() {
        Map<String, Object> values = new java.util.LinkedHashMap<>();
        values.put("iothread", true);
        values.put("size", "32G");
        values.put("file", "local:10");
        assertThat(PropertyString.format(DISK, values)).isEqualTo("local:10,size=32G,iothread=1");
    }

    @Test
    void badKeyIsNamed() {
        assertThatThrownBy(() -> PropertyString.parse(DISK, "local:10,cache=fast"))
                .hasMessageContaining("cache: value 'fast' does not have a value in the enumeration");
        assertThatThrownBy(() -> PropertyString.parse(DISK, "local:10,colour=red")).hasMessage("invalid key 'colour'");
        assertThatThrownBy(() -> PropertyString.parse(DISK, "size=1G")).hasMessageContaining("file: property is missing");
    }

    @Test
    void validatorReportsPropertyStringErrorsUnderTheParameter() {
        assertThatThrownBy(() -> Validator.validate(Map.of("scsi0", Schema.propertyString(DISK)), Map.of("scsi0", "x,size=big")))
                .hasMessageContaining("scsi0: invalid format - size: value does not match the regex pattern");
    }
}
