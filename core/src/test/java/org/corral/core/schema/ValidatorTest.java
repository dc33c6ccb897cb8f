package org.corral.core.schema;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.LinkedHashMap;
import java.util.Map;
import org.corral.core.error.ParameterError;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ValidatorTest {
    private static Map<String, Schema> params() {
        Map<String, Schema> p = new LinkedHashMap<>();
        p.put("vmid", Schema.integer().format(Formats.PVE_VMID));
        p.put("name", Schema.string().maxLength(8).optional());
        p.put("node", Schema.string().format(Formats.PVE_NODE).optional());
        p.put("force", Schema.bool().optional());
        p.put("mode", Schema.string().enumValues("a", "b").optional());
        return p;
    }

    @Test
    void convertsValuesThatArriveAsStrings() {
        Map<String, Object> values = Validator.validate(params(), Map.of("vmid", "100", "force", "1", "name", "web"));
        assertThat(values).containsEntry("vmid", 100L).containsEntry("force", true).containsEntry("name", "web");
    }

    @Test
    void collectsEveryBadParameterWithProxmoxWording() {
        Map<String, String> raw = new LinkedHashMap<>();
        raw.put("vmid", "abc");
        raw.put("name", "much-too-long");
        raw.put("bogus", "1");
        raw.put("force", "maybe");
        raw.put("mode", "c");
        assertThatThrownBy(() -> Validator.validate(params(), raw))
                .isInstanceOfSatisfying(ParameterError.class, e -> assertThat(e.errors())
                        .containsEntry("vmid", "type check ('integer') failed - got 'abc'")
                        .containsEntry("name", "value may only be 8 characters long")
                        .containsEntry("bogus", "property is not defined in schema and the schema does not allow additional properties")
                        .containsEntry("force", "type check ('boolean') failed - got 'maybe'")
                        .containsEntry("mode", "value 'c' does not have a value in the enumeration 'a, b'")
                        .hasSize(5));
    }

    @Test
    void missingRequiredParameterIsNamed() {
        assertThatThrownBy(() -> Validator.validate(params(), Map.of()))
                .isInstanceOfSatisfying(ParameterError.class, e ->
                        assertThat(e.errors()).containsEntry("vmid", "property is missing and it is not optional"));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "pve-node|..", "pve-node|a/b", "pve-node|-x", "pve-vmid|99", "pve-vmid|1000000000",
        "pve-userid|../x@pve", "pve-userid|..@pve", "pve-userid|a/b@pve", "pve-userid|ab", "pve-groupid|..",
        "pve-groupid|a/b", "pve-storage-id|Local", "pve-storage-id|a/..", "pve-acl-path|/vms/..", "pve-acl-path|vms",
        "pve-realm|p", "pve-tokenid|1abc", "pve-poolid|a/b/c/d", "pve-configid|0net", "pve-configid|net.0", "ip|1.2.3.256", "ip|example.com",
    })
    void formatsRefuseHostileOrMalformedIds(String format, String value) {
        assertThat(Formats.check(format, value)).isPresent();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "pve-node|pve1", "pve-vmid|100", "pve-userid|admin@pve", "pve-userid|root@pam", "pve-groupid|admins",
        "pve-storage-id|local-btrfs", "pve-acl-path|/", "pve-acl-path|/vms/100", "pve-realm|pve", "pve-tokenid|automation",
        "pve-poolid|prod/web", "pve-configid|net0", "pve-configid|next-id", "pve-configid|Net0", "ip|10.0.0.1", "ip|fe80::1", "pve-priv|VM.Audit",
    })
    void formatsAcceptProxmoxIds(String format, String value) {
        assertThat(Formats.check(format, value)).isEmpty();
    }

    @Test
    void listFormatsCheckEveryItem() {
        assertThat(Formats.check("pve-priv-list", "VM.Audit,Sys.Audit")).isEmpty();
        assertThat(Formats.check("pve-priv-list", "VM.Audit,Sys.Nope")).contains("invalid privilege 'Sys.Nope'");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {"admin%0Aargs: -name injected", "x%0D%0A[injected]", "x%0D", "bell%07", "del%7F", "nel%C2%85"})
    void oneLineStringRefusesControlCharacters(String encoded) {
        String value = java.net.URLDecoder.decode(encoded, java.nio.charset.StandardCharsets.UTF_8);
        assertThatThrownBy(() -> Validator.validate(Map.of("ciuser", Schema.string()), Map.of("ciuser", value)))
                .isInstanceOfSatisfying(ParameterError.class, e ->
                        assertThat(e.errors()).containsEntry("ciuser", "value must not contain control characters"));
    }

    @Test
    void oneLineStringKeepsTabsAndMultiLineStringKeepsLineBreaks() {
        assertThat(Validator.validate(Map.of("name", Schema.string()), Map.of("name", "a\tb"))).containsEntry("name", "a\tb");
        String text = "<script>alert(1)</script>\r\nsecond line\n";
        assertThat(Validator.validate(Map.of("description", Schema.string().multiLine()), Map.of("description", text)))
                .containsEntry("description", text);
    }
}
