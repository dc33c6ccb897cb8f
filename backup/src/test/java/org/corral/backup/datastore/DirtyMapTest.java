package org.corral.backup.datastore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import org.junit.jupiter.api.Test;

class DirtyMapTest {
    @Test
    void chunkIsDirtyWhenAnyGranuleInsideItIs() {
        DirtyMap map = DirtyMap.ofRanges(65536, new long[] {65536 * 5 + 10, 1}, new long[] {65536 * 64, 65536 * 2});
        assertThat(map.dirty(0, 65536 * 5)).isFalse();
        assertThat(map.dirty(0, 65536 * 5 + 1)).isTrue();
        assertThat(map.dirty(65536 * 6, 65536 * 64)).isFalse();
        assertThat(map.dirty(65536 * 65, 65536 * 66)).isTrue();
        assertThat(map.dirty(65536 * 66, 65536 * 100)).isFalse();
        assertThat(map.dirty(10, 10)).isFalse();
    }

    @Test
    void badRangesAreRefused() {
        assertThatThrownBy(() -> DirtyMap.ofRanges(65536, new long[] {-1, 5})).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> DirtyMap.ofRanges(0)).hasMessageContaining("granularity");
    }

    @Test
    void snapshotIdsParseAndRefuseBadParts() {
        SnapshotId id = SnapshotId.parse("vm/100/2026-12-03T12:00:00Z");
        assertThat(id.time()).isEqualTo(Instant.parse("2026-12-03T12:00:00Z"));
        assertThat(id).hasToString("vm/100/2026-12-03T12:00:00Z");
        assertThat(new SnapshotId("ct", "101", Instant.parse("2026-12-03T12:00:00.750Z")).timeString()).isEqualTo("2026-12-03T12:00:00Z");
        assertThatThrownBy(() -> SnapshotId.parse("qemu/100/2026-12-03T12:00:00Z")).hasMessageContaining("backup type 'qemu'");
        assertThatThrownBy(() -> SnapshotId.parse("vm/../2026-12-03T12:00:00Z")).hasMessageContaining("backup id '..'");
        assertThatThrownBy(() -> SnapshotId.parse("vm/100/yesterday")).hasMessageContaining("bad time 'yesterday'");
    }
}
