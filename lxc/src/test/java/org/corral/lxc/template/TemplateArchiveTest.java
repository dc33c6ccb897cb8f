package org.corral.lxc.template;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.zip.GZIPOutputStream;
import org.corral.core.process.ProcessRunner;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class TemplateArchiveTest {
    @TempDir
    Path dir;

    private Path tarball(String name, String flag) throws IOException {
        Path src = Files.createDirectories(dir.resolve("src"));
        Files.writeString(src.resolve("hello"), "hi\n");
        Path out = dir.resolve(name);
        ProcessRunner.of("tar", flag, "-cf", out.toString(), "-C", src.toString(), ".").timeout(Duration.ofSeconds(30)).run().check();
        return out;
    }

    @ParameterizedTest
    @CsvSource({"t.tar.gz, --gzip, GZIP", "t.tar.xz, --xz, XZ", "t.tar.zst, --zstd, ZSTD", "t.tar, --no-auto-compress, NONE"})
    void compressionIsReadFromTheContent(String name, String flag, TemplateArchive.Compression expected) throws IOException {
        Path archive = tarball(name, flag);
        // the name says nothing: a renamed file is still recognized
        Path renamed = Files.move(archive, dir.resolve("template.bin"));
        assertThat(TemplateArchive.check(renamed)).isEqualTo(expected);
    }

    @Test
    void textFileIsNotATemplateArchive() throws IOException {
        Path file = Files.writeString(dir.resolve("debian.tar.gz"), "this is not an archive\n".repeat(40));
        assertThatThrownBy(() -> TemplateArchive.check(file)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'debian.tar.gz' is not a template archive");
    }

    @Test
    void gzipOfSomethingElseIsNotATemplateArchive() throws IOException {
        Path file = dir.resolve("fake.tar.gz");
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(file))) {
            out.write("plain text, compressed\n".repeat(100).getBytes());
        }
        assertThatThrownBy(() -> TemplateArchive.check(file)).hasMessageContaining("is not a template archive");
    }

    @Test
    void missingFileIsReported() {
        assertThatThrownBy(() -> TemplateArchive.check(dir.resolve("nope.tar.zst"))).hasMessageContaining("does not exist");
    }
}
