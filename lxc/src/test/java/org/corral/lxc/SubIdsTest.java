package org.corral.lxc;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SubIdsTest {
    @TempDir
    Path dir;

    @Test
    void emptyFilesGetRootsRangeOnce() throws IOException {
        Path uid = Files.writeString(dir.resolve("subuid"), "");
        Path gid = dir.resolve("subgid");
        SubIds ids = new SubIds(uid, gid);
        assertThat(ids.ensure()).isTrue();
        assertThat(ids.ensure()).isFalse();
        assertThat(uid).hasContent("root:100000:65536");
        assertThat(gid).hasContent("root:100000:65536");
    }

    @Test
    void otherLinesAreKeptAndALineWithoutNewlineIsEnded() throws IOException {
        Path uid = Files.writeString(dir.resolve("subuid"), "alice:165536:65536");
        Path gid = Files.writeString(dir.resolve("subgid"), "alice:165536:65536\n");
        new SubIds(uid, gid).ensure();
        assertThat(Files.readString(uid)).isEqualTo("alice:165536:65536\nroot:100000:65536\n");
        assertThat(Files.readString(gid)).isEqualTo("alice:165536:65536\nroot:100000:65536\n");
    }

    @Test
    void aWiderRootRangeAlreadyCovers() {
        assertThat(SubIds.covers(List.of("root:100000:1000000"), 100000, 65536)).isTrue();
        assertThat(SubIds.covers(List.of("root:100000:1000"), 100000, 65536)).isFalse();
        assertThat(SubIds.covers(List.of("bob:100000:65536"), 100000, 65536)).isFalse();
    }
}
