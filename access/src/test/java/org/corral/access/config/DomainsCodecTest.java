package org.corral.access.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class DomainsCodecTest {
    static final String GOLDEN = """
            pam: pam
            \tcomment Linux PAM standard authentication

            pve: pve
            \tcomment Proxmox VE authentication server
            \tdefault 1

            ldap: corp
            \tcomment Corporate directory%3A Berlin
            \tbase_dn dc=example,dc=com
            \tserver1 ldap.example.com
            \tuser_attr uid
            \tmode ldaps

            """;

    @Test
    void goldenFileReadsAndWritesBackByteForByte() {
        assertThat(DomainsCodec.write(DomainsCodec.parse(GOLDEN))).isEqualTo(GOLDEN);
    }

    @Test
    void goldenFileKeepsRealmsTypesAndDecodedComments() {
        DomainsConfig config = DomainsCodec.parse(GOLDEN);

        assertThat(config.realms()).containsOnlyKeys("pam", "pve", "corp");
        assertThat(config.realm("pve").orElseThrow().isDefault()).isTrue();
        assertThat(config.realm("corp").orElseThrow().type()).isEqualTo("ldap");
        assertThat(config.realm("corp").orElseThrow().comment()).isEqualTo("Corporate directory: Berlin");
        assertThat(config.realm("corp").orElseThrow().option("base_dn")).contains("dc=example,dc=com");
    }

    @Test
    void missingBuiltinRealmsAreAddedWithTheirComments() {
        assertThat(DomainsCodec.write(DomainsCodec.parse(""))).isEqualTo("""
                pam: pam
                \tcomment Linux PAM standard authentication

                pve: pve
                \tcomment Proxmox VE authentication server

                """);
    }

    @Test
    void onlyTheFirstDefaultRealmStaysDefault() {
        DomainsConfig config = DomainsCodec.parse("""
                pve: pve
                \tdefault 1

                pam: pam
                \tdefault yes
                """);

        assertThat(config.realm("pve").orElseThrow().isDefault()).isTrue();
        assertThat(config.realm("pam").orElseThrow().isDefault()).isFalse();
    }

    @Test
    void builtinTypesAreForcedAndOptionsOfBuiltinTypesSorted() {
        DomainsConfig config = DomainsCodec.parse("""
                ldap: pve
                \ttfa type=oath
                \tdefault 1
                \tcomment Local
                """);

        assertThat(config.realm("pve").orElseThrow().type()).isEqualTo("pve");
        assertThat(DomainsCodec.write(config)).startsWith("pve: pve\n\tcomment Local\n\tdefault 1\n\ttfa type=oath\n\n");
    }

    @Test
    void makingARealmDefaultClearsTheOtherDefault() {
        DomainsConfig config = DomainsCodec.parse(GOLDEN)
                .withRealm(new RealmConfig("pam", "pam", Map.of("comment", "PAM", "default", "1")));

        assertThat(config.realm("pam").orElseThrow().isDefault()).isTrue();
        assertThat(config.realm("pve").orElseThrow().isDefault()).isFalse();
    }
}
