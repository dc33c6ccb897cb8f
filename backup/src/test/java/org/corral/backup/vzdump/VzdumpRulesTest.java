package org.corral.backup.vzdump;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.util.Map;
import org.corral.core.error.ParameterError;
import org.junit.jupiter.api.Test;

class VzdumpRulesTest {
    @Test
    void notesTemplateFillsVariablesAndUndoesEscapes() {
        Map<String, String> vars = Map.of("guestname", "web", "node", "pve1", "vmid", "100", "cluster", "lab");
        assertThat(Vzdump.expand("{{guestname}} on {{node}}", vars)).isEqualTo("web on pve1");
        assertThat(Vzdump.expand("VM {{vmid}}\\\\n{{cluster}}", vars)).isEqualTo("VM 100\\nlab");
        assertThat(Vzdump.expand("line1\\nline2", vars)).isEqualTo("line1\nline2");
        assertThat(Vzdump.expand("{{unknown}} {{vmid", vars)).isEqualTo("{{unknown}} {{vmid");
    }

    @Test
    void retentionIsParsedAsProxmoxWritesIt() {
        assertThat(VzdumpApi.retention("keep-all=1")).isEmpty();
        assertThat(VzdumpApi.retention("keep-last=3,keep-daily=7")).containsExactlyInAnyOrderEntriesOf(Map.of("keep-last", 3, "keep-daily", 7));
        assertThat(VzdumpApi.retention("keep-last=0,keep-weekly=2")).containsExactlyInAnyOrderEntriesOf(Map.of("keep-weekly", 2));
        assertThatThrownBy(() -> VzdumpApi.retention("keep-all=1,keep-last=2")).hasMessageContaining("keep-all");
        assertThatThrownBy(() -> VzdumpApi.retention("keep-last=x")).hasMessageContaining("keep-last");
        assertThatThrownBy(() -> VzdumpApi.retention("keep-often=2")).hasMessageContaining("keep-often");
    }

    @Test
    void compressionValuesAndSuffixesAreProxmoxs() {
        assertThat(Compression.parse("0").suffix()).isEmpty();
        assertThat(Compression.parse("1")).isEqualTo(Compression.LZO);
        assertThat(Compression.parse("gzip").suffix()).isEqualTo(".gz");
        assertThat(Compression.parse("zstd").suffix()).isEqualTo(".zst");
        assertThat(Compression.ZSTD.compressCommand(4)).contains("--threads=4");
        assertThat(Compression.ofName("vzdump-lxc-100-2026_01_01-00_00_00.tar.lzo")).isEqualTo(Compression.LZO);
        assertThatThrownBy(() -> Compression.parse("bzip2")).isInstanceOf(ParameterError.class);
        assertThatThrownBy(() -> Compression.ofName("x.vma.zst")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void throttleHoldsTheRate() throws Exception {
        Throttle throttle = new Throttle(new ByteArrayOutputStream(), 1 << 20);
        long start = System.nanoTime();
        byte[] piece = new byte[64 << 10];
        for (int i = 0; i < 8; i++) {
            throttle.write(piece);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        // 512 KiB at 1 MiB/s
        assertThat(seconds).isBetween(0.4, 2.0);
        assertThat(throttle.bytes()).isEqualTo(512 << 10);
    }
}
