package org.corral.lxc.template;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RootfsFilesTest {
    @TempDir
    Path dir;

    @Test
    void absoluteLinksResolveInsideTheRoot() throws IOException {
        Path root = Files.createDirectories(dir.resolve("root"));
        Files.createDirectories(root.resolve("etc"));
        Files.createSymbolicLink(root.resolve("etc/hostname"), Path.of("/etc/shadow"));
        RootfsFiles files = new RootfsFiles(root, 0, 0);
        assertThat(files.resolve("/etc/hostname")).isEqualTo(root.resolve("etc/shadow"));
    }

    @Test
    void dotDotLinksStopAtTheRoot() throws IOException {
        Path root = Files.createDirectories(dir.resolve("root"));
        Files.createDirectories(root.resolve("etc"));
        Files.createSymbolicLink(root.resolve("etc/hosts"), Path.of("../../../../outside"));
        RootfsFiles files = new RootfsFiles(root, 0, 0);
        files.write("/etc/hosts", "x\n", "rw-r--r--");
        assertThat(root.resolve("outside")).hasContent("x");
        assertThat(dir.resolve("outside")).doesNotExist();
    }

    @Test
    void writeReplacesALinkTargetInsideTheRootAndCreatesParents() throws IOException {
        Path root = Files.createDirectories(dir.resolve("root"));
        Files.createDirectories(root.resolve("run/systemd/resolve"));
        Files.createDirectories(root.resolve("etc"));
        Files.createSymbolicLink(root.resolve("etc/resolv.conf"), Path.of("../run/systemd/resolve/stub-resolv.conf"));
        RootfsFiles files = new RootfsFiles(root, 0, 0);
        files.write("/etc/resolv.conf", "nameserver 1.1.1.1\n", "rw-r--r--");
        files.write("/root/.ssh/authorized_keys", "k\n", "rw-------");
        assertThat(root.resolve("run/systemd/resolve/stub-resolv.conf")).hasContent("nameserver 1.1.1.1");
        assertThat(Files.isSymbolicLink(root.resolve("etc/resolv.conf"))).isTrue();
        assertThat(root.resolve("root/.ssh/authorized_keys")).hasContent("k");
    }
}
