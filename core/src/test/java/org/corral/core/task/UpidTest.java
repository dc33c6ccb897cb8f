package org.corral.core.task;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class UpidTest {
    private static final String GOOD = "UPID:pve1:00001234:00ABCDEF:65000000:qmstart:100:root@pam:";

    @Test
    void formatsLikeProxmoxWithZeroPaddedUpperCaseHex() {
        Upid upid = new Upid("pve1", 0x1234, 0xABCDEF, 0x65000000L, "qmstart", "100", "root@pam");

        assertThat(upid.format()).isEqualTo(GOOD);
        assertThat(upid).hasToString(GOOD);
    }

    @Test
    void formatsEmptyIdAndNineDigitPstart() {
        Upid upid = new Upid("node-2", 0xFFFFFFFFL, 0x1ABCDEF01L, 0, "vzdump", "", "backup@pve!job");

        assertThat(upid.format()).isEqualTo("UPID:node-2:FFFFFFFF:1ABCDEF01:00000000:vzdump::backup@pve!job:");
    }

    @ParameterizedTest
    @ValueSource(strings = {
        GOOD,
        "UPID:node-2:FFFFFFFF:1ABCDEF01:00000000:vzdump::backup@pve!job:",
        "UPID:a:00000000:00000000:00000000:x::u:",
        "UPID:pve1:000F4240:0001E240:6553F100:vncproxy:101:alice@pve:",
    })
    void parseAndFormatRoundTrip(String text) {
        Upid upid = Upid.parse(text);

        assertThat(upid.format()).isEqualTo(text);
        assertThat(Upid.parse(upid.format())).isEqualTo(upid);
    }

    @Test
    void parseDecodesEveryField() {
        Upid upid = Upid.parse(GOOD);

        assertThat(upid).isEqualTo(new Upid("pve1", 0x1234, 0xABCDEF, 0x65000000L, "qmstart", "100", "root@pam"));
    }

    @Test
    void parseAcceptsLowerCaseHexAsProxmoxDoes() {
        Upid upid = Upid.parse("UPID:pve1:0000abcd:00abcdef:6500000f:qmstart:100:root@pam:");

        assertThat(upid.pid()).isEqualTo(0xABCD);
        assertThat(upid.format()).isEqualTo("UPID:pve1:0000ABCD:00ABCDEF:6500000F:qmstart:100:root@pam:");
    }

    static Stream<Arguments> malformed() {
        return Stream.of(
                Arguments.of("", "does not start with 'UPID:'"),
                Arguments.of("upid:pve1:00001234:00ABCDEF:65000000:qmstart:100:root@pam:", "does not start with 'UPID:'"),
                Arguments.of(" " + GOOD, "does not start with 'UPID:'"),
                Arguments.of("UPID:", "nothing after 'UPID:'"),
                Arguments.of("UPID:pve1:00001234:00ABCDEF:65000000:qmstart:100:root@pam", "does not end with ':'"),
                Arguments.of(GOOD + "\n", "does not end with ':'"),
                Arguments.of("UPID:pve1:00001234:00ABCDEF:65000000:qmstart:100:root@pam:extra:", "has 8 fields instead of 7"),
                Arguments.of("UPID:pve1:00001234:00ABCDEF:65000000:qmstart:root@pam:", "has 6 fields instead of 7"),
                Arguments.of("UPID:pve_1:00001234:00ABCDEF:65000000:qmstart:100:root@pam:", "node name 'pve_1'"),
                Arguments.of("UPID:pve-:00001234:00ABCDEF:65000000:qmstart:100:root@pam:", "node name 'pve-'"),
                Arguments.of("UPID::00001234:00ABCDEF:65000000:qmstart:100:root@pam:", "node name ''"),
                Arguments.of("UPID:pve1:0001234:00ABCDEF:65000000:qmstart:100:root@pam:", "pid '0001234' must be 8 hex digits"),
                Arguments.of("UPID:pve1:0000123G:00ABCDEF:65000000:qmstart:100:root@pam:", "pid '0000123G' is not hexadecimal"),
                Arguments.of("UPID:pve1:+0001234:00ABCDEF:65000000:qmstart:100:root@pam:", "pid '+0001234' is not hexadecimal"),
                Arguments.of("UPID:pve1:00001234:0000ABCDEF:65000000:qmstart:100:root@pam:", "pstart '0000ABCDEF' must be 8 or 9 hex digits"),
                Arguments.of("UPID:pve1:00001234:00ABCDEF:065000000:qmstart:100:root@pam:", "start time '065000000' must be 8 hex digits"),
                Arguments.of("UPID:pve1:00001234:00ABCDEF:65000000::100:root@pam:", "type is empty"),
                Arguments.of("UPID:pve1:00001234:00ABCDEF:65000000:qmstart:100::", "user is empty"),
                Arguments.of("UPID:pve1:00001234:00ABCDEF:65000000:qmstart:1 00:root@pam:", "id '1 00' may not contain"),
                Arguments.of("UPID:pve1:00001234:00ABCDEF:65000000:qmstart:../100:root@pam:", "id '../100' may not contain"),
                Arguments.of("UPID:pve1:00001234:00ABCDEF:65000000:qm\tstart:100:root@pam:", "may not contain"));
    }

    @ParameterizedTest
    @MethodSource("malformed")
    void parseRejectsMalformedUpidNamingTheProblem(String text, String reason) {
        assertThatThrownBy(() -> Upid.parse(text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("unable to parse worker upid '" + text + "': ")
                .hasMessageContaining(reason);
    }

    @Test
    void constructorRejectsValuesThatCannotBeWritten() {
        assertThatThrownBy(() -> new Upid("pve1", -1, 0, 0, "t", "", "u")).hasMessageContaining("pid -1 is outside");
        assertThatThrownBy(() -> new Upid("pve1", 0x1_0000_0000L, 0, 0, "t", "", "u")).hasMessageContaining("pid");
        assertThatThrownBy(() -> new Upid("pve1", 0, 0x10_0000_0000L, 0, "t", "", "u")).hasMessageContaining("pstart");
        assertThatThrownBy(() -> new Upid("pve1", 0, 0, 0x1_0000_0000L, "t", "", "u")).hasMessageContaining("start time");
        assertThatThrownBy(() -> new Upid("pve1", 0, 0, 0, "t", "", "root@pam:x")).hasMessageContaining("user 'root@pam:x' may not contain");
        assertThatThrownBy(() -> new Upid("pve1", 0, 0, 0, "t", "", "u".repeat(250))).hasMessageContaining("255 bytes");
    }
}
