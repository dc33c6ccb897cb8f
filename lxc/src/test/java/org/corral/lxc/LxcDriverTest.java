package org.corral.lxc;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LxcDriverTest {
    @TempDir
    Path dir;

    @Test
    void rootfsBehindAClosedDirectoryIsRefusedWithTheDirectoryNamed() throws Exception {
        Path closed = Files.createDirectories(dir.resolve("closed/rootfs"));
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(dir.resolve("closed"), PosixFilePermissions.fromString("rwx------"));
        assertThatThrownBy(() -> LxcDriver.checkReachable(100, List.of(closed)))
                .hasMessageContaining("directory '" + dir.resolve("closed") + "' is closed to others (mode rwx------)");
        Files.setPosixFilePermissions(dir.resolve("closed"), PosixFilePermissions.fromString("rwx--x--x"));
        // @TempDir's own parents are open on this host; only the tree under test matters
        assertThatCode(() -> LxcDriver.checkReachable(100, List.of(closed))).doesNotThrowAnyException();
    }
}
