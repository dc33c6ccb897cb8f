package org.corral.core.io;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileTreesTest {
    @TempDir
    Path dir;

    @Test
    void removesATreeButNeverWhatItsLinksPointTo() throws Exception {
        Path kept = Files.createDirectories(dir.resolve("kept"));
        Files.writeString(kept.resolve("precious"), "x");
        Path tree = Files.createDirectories(dir.resolve("tree/a/b"));
        Files.writeString(tree.resolve("file"), "y");
        Files.createSymbolicLink(dir.resolve("tree/a/link-to-kept"), kept);
        Files.createSymbolicLink(dir.resolve("tree/file-link"), kept.resolve("precious"));

        FileTrees.deleteTree(dir.resolve("tree"));

        assertThat(dir.resolve("tree")).doesNotExist();
        assertThat(kept.resolve("precious")).hasContent("x");
    }

    @Test
    void aLinkGivenAsTheTreeIsRemovedAloneAndAMissingPathIsFine() throws Exception {
        Path kept = Files.createDirectories(dir.resolve("kept"));
        Files.writeString(kept.resolve("precious"), "x");
        Path link = Files.createSymbolicLink(dir.resolve("link"), kept);

        FileTrees.deleteTree(link);
        FileTrees.deleteTree(dir.resolve("never-there"));
        FileTrees.deleteTreeUnchecked(dir.resolve("never-there"));

        assertThat(link).doesNotExist();
        assertThat(kept.resolve("precious")).hasContent("x");
    }
}
