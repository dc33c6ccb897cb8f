package org.corral.lxc.template;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class OsDetectorTest {
    @TempDir
    Path root;

    private void file(String path, String text) throws IOException {
        Path p = root.resolve(path);
        Files.createDirectories(p.getParent());
        Files.writeString(p, text);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "etc/debian_version | 12.5 | debian",
        "etc/alpine-release | 3.19.1 | alpine",
        "etc/lsb-release | DISTRIB_ID=Ubuntu | ubuntu",
        "etc/fedora-release | Fedora release 39 | fedora",
    })
    void releaseFilesNameTheDistribution(String path, String text, String expected) throws IOException {
        file(path, text);
        assertThat(OsDetector.detect(new RootfsFiles(root, 0, 0))).isEqualTo(expected);
    }

    @Test
    void osReleaseIdWinsOverDebianVersion() throws IOException {
        file("etc/debian_version", "trixie/sid");
        file("usr/lib/os-release", "NAME=\"Ubuntu\"\nID=ubuntu\n");
        Files.createDirectories(root.resolve("etc"));
        Files.createSymbolicLink(root.resolve("etc/os-release"), Path.of("../usr/lib/os-release"));
        assertThat(OsDetector.detect(new RootfsFiles(root, 0, 0))).isEqualTo("ubuntu");
    }

    @Test
    void busyboxRootIsUnmanaged() throws IOException {
        file("bin/busybox", "");
        assertThat(OsDetector.detect(new RootfsFiles(root, 0, 0))).isEqualTo("unmanaged");
    }
}
