package org.corral.lxc.template;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.corral.core.process.ProcessRunner;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TemplateBuildersTest {
    @TempDir
    Path dir;

    @Test
    void busyboxTemplateIsACompressedTarWithInitAndAppletLinks() throws IOException {
        Path template = new BusyboxTemplate().build(dir, TemplateArchive.Compression.ZSTD);
        assertThat(template.getFileName().toString()).matches("busybox-[0-9.]+-corral_1_amd64\\.tar\\.zst");
        assertThat(TemplateArchive.check(template)).isEqualTo(TemplateArchive.Compression.ZSTD);
        String listing = ProcessRunner.of("tar", "--zstd", "-tvf", template.toString()).timeout(Duration.ofSeconds(30)).run().check().stdout();
        assertThat(listing).contains("./bin/busybox", "./sbin/init -> ../bin/busybox", "./etc/inittab", "drwxr-xr-x 0/0               0");
        try (var left = Files.list(dir)) {
            assertThat(left.toList()).containsExactly(template);
        }
    }

    @Test
    void dynamicBusyboxIsRefused() throws IOException {
        Path fake = Files.write(dir.resolve("busybox"), "\u007fELF....../lib64/ld-linux-x86-64.so.2".getBytes());
        assertThatThrownBy(() -> new BusyboxTemplate(fake).build(dir.resolve("out"))).hasMessageContaining("busybox-static");
    }

    @Test
    void debianTemplateRunsDebootstrapMinbaseForTheSuite() {
        DebianTemplate builder = new DebianTemplate(DebianTemplate.Spec.bookworm(), Duration.ofMinutes(30));
        assertThat(builder.debootstrapCommand(Path.of("/tmp/x"))).startsWith("debootstrap", "--variant=minbase", "--arch=amd64")
                .endsWith("bookworm", "/tmp/x", "http://deb.debian.org/debian");
        assertThat(DebianTemplate.Spec.bookworm().fileName()).isEqualTo("debian-12-standard_12.0-1_amd64.tar.zst");
    }

    @Test
    void debianSpecRefusesUnknownSuitesArchesAndMirrors() {
        URI mirror = URI.create("http://deb.debian.org/debian");
        assertThatThrownBy(() -> new DebianTemplate.Spec("sid; rm -rf /", "amd64", mirror)).hasMessageContaining("unsupported Debian suite");
        assertThatThrownBy(() -> new DebianTemplate.Spec("bookworm", "sparc", mirror)).hasMessageContaining("unsupported architecture");
        assertThatThrownBy(() -> new DebianTemplate.Spec("bookworm", "amd64", URI.create("ftp://x/debian")))
                .hasMessageContaining("mirror must be");
    }
}
