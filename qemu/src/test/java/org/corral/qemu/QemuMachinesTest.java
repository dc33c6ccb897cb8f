package org.corral.qemu;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import org.junit.jupiter.api.Test;

class QemuMachinesTest {
    static QemuMachines.Catalog debian12() throws IOException {
        return QemuMachines.Catalog.parse(QemuCommandLineTest.resource("/machine-help-7.2.txt"));
    }

    @Test
    void unversionedTypesArePinnedToWhatQemuAliasesThem() throws IOException {
        assertThat(debian12().pin("pc")).isEqualTo("pc-i440fx-7.2");
        assertThat(debian12().pin("q35")).isEqualTo("pc-q35-7.2");
    }

    @Test
    void versionedAndOtherTypesAreKept() throws IOException {
        assertThat(debian12().pin("pc-i440fx-7.1")).isEqualTo("pc-i440fx-7.1");
        assertThat(debian12().pin("microvm")).isEqualTo("microvm");
    }

    @Test
    void withoutAnAliasTheNewestVersionWinsNumerically() {
        QemuMachines.Catalog catalog = QemuMachines.Catalog.parse("""
                Supported machines are:
                pc-i440fx-2.9        Standard PC (i440FX + PIIX, 1996)
                pc-i440fx-2.12       Standard PC (i440FX + PIIX, 1996)
                pc-q35-2.10          Standard PC (Q35 + ICH9, 2009)
                """);
        assertThat(catalog.pin("pc")).isEqualTo("pc-i440fx-2.12");
        assertThat(catalog.pin("q35")).isEqualTo("pc-q35-2.10");
    }

    @Test
    void aTypeQemuDoesNotOfferStaysUnpinned() {
        assertThat(QemuMachines.Catalog.parse("Supported machines are:\nnone  empty machine\n").pin("q35")).isEqualTo("q35");
    }
}
