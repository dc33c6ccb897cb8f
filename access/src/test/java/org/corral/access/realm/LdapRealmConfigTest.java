package org.corral.access.realm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.corral.access.AccessFixture.ADMIN;
import static org.corral.core.api.HttpVerb.DELETE;
import static org.corral.core.api.HttpVerb.GET;
import static org.corral.core.api.HttpVerb.POST;
import static org.corral.core.api.HttpVerb.PUT;

import java.util.Map;
import java.util.Set;
import org.corral.access.AccessFixture;
import org.corral.core.error.ParameterError;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class LdapRealmConfigTest {
    private final AccessFixture fx = new AccessFixture();

    @AfterEach
    void tearDown() {
        fx.close();
    }

    private void assertRefused(String parameter, String... params) {
        String before = fx.store.text("domains.cfg");
        assertThatThrownBy(() -> fx.call(POST, "/access/domains", ADMIN, params))
                .isInstanceOfSatisfying(ParameterError.class, e -> assertThat(e.errors()).containsKey(parameter));
        assertThat(fx.store.text("domains.cfg")).isEqualTo(before);
        assertThat(fx.store.read("priv/ldap/corp.pw")).isEmpty();
    }

    @Test
    void anLdapRealmIsWrittenAsProxmoxDoesWithItsPasswordUnderPrivOnly() throws Exception {
        fx.call(POST, "/access/domains", ADMIN, "realm", "corp", "type", "ldap", "server1", "ldap.example.com",
                "port", "636", "base_dn", "ou=people,dc=example,dc=com", "user_attr", "uid", "bind_dn",
                "cn=reader,dc=example,dc=com", "password", "bind-secret", "mode", "ldaps", "verify", "1",
                "filter", "(objectClass=inetOrgPerson)", "sync_attributes", "email=mail,firstname=givenName",
                "sync-defaults-options", "scope=both,remove-vanished=acl;entry,enable-new=0", "comment", "Corporate");

        assertThat(fx.store.text("domains.cfg")).contains("ldap: corp\n\tcomment Corporate\n",
                "\tbase_dn ou=people,dc=example,dc=com\n", "\tbind_dn cn=reader,dc=example,dc=com\n",
                "\tfilter (objectClass=inetOrgPerson)\n", "\tmode ldaps\n", "\tport 636\n", "\tserver1 ldap.example.com\n",
                "\tsync-defaults-options scope=both,remove-vanished=acl;entry,enable-new=0\n",
                "\tsync_attributes email=mail,firstname=givenName\n", "\tuser_attr uid\n", "\tverify 1\n")
                .doesNotContain("bind-secret");
        assertThat(fx.store.text("priv/ldap/corp.pw")).isEqualTo("bind-secret\n");
        @SuppressWarnings("unchecked")
        Map<String, Object> read = (Map<String, Object>) fx.call(GET, "/access/domains/corp", ADMIN);
        assertThat(read).containsEntry("type", "ldap").containsEntry("server1", "ldap.example.com")
                .containsEntry("verify", 1).containsEntry("port", 636).doesNotContainKey("password");
        assertThat(read.toString()).doesNotContain("bind-secret");

        fx.call(PUT, "/access/domains/corp", ADMIN, "password", "new-secret", "server2", "10.0.0.2");
        assertThat(fx.store.text("priv/ldap/corp.pw")).isEqualTo("new-secret\n");
        assertThat(fx.store.text("domains.cfg")).contains("\tserver2 10.0.0.2\n");

        fx.call(PUT, "/access/domains/corp", ADMIN, "delete", "password,server2");
        assertThat(fx.store.read("priv/ldap/corp.pw")).isEmpty();
        assertThat(fx.store.text("domains.cfg")).doesNotContain("server2");

        fx.call(PUT, "/access/domains/corp", ADMIN, "password", "again");
        fx.call(DELETE, "/access/domains/corp", ADMIN);
        assertThat(fx.store.read("priv/ldap/corp.pw")).isEmpty();
        assertThat(fx.store.text("domains.cfg")).doesNotContain("corp");
    }

    @Test
    void anAdRealmNeedsItsDomain() throws Exception {
        assertRefused("domain", "realm", "corp", "type", "ad", "server1", "dc1.example.com");
        fx.call(POST, "/access/domains", ADMIN, "realm", "corp", "type", "ad", "server1", "dc1.example.com",
                "domain", "example.com", "mode", "ldap+starttls");
        assertThat(fx.store.text("domains.cfg")).contains("ad: corp\n", "\tdomain example.com\n", "\tmode ldap+starttls\n");
    }

    @Test
    void badOptionsAreRefusedNamingTheParameterAndChangeNothing() throws Exception {
        String[] base = {"realm", "corp", "type", "ldap", "server1", "ldap.example.com", "base_dn", "dc=example,dc=com",
                "user_attr", "uid"};
        assertRefused("base_dn", "realm", "corp", "type", "ldap", "server1", "ldap.example.com", "user_attr", "uid",
                "password", "x");
        assertRefused("server1", "realm", "corp", "type", "ldap", "base_dn", "dc=example,dc=com", "user_attr", "uid");
        assertRefused("base_dn", with(base, "base_dn", "not a dn"));
        assertRefused("filter", with(base, "filter", "(uid=x"));
        assertRefused("domain", with(base, "domain", "example.com"));
        assertRefused("mode", with(base, "mode", "ftp"));
        assertRefused("port", with(base, "port", "70000"));
        assertRefused("server1", with(base, "server1", "bad host;rm"));
        assertRefused("sync_attributes", with(base, "sync_attributes", "shoesize=foo"));
        assertRefused("sync-defaults-options", with(base, "sync-defaults-options", "scope=everything"));
        assertRefused("sync-defaults-options", with(base, "sync-defaults-options", "remove-vanished=all"));
        assertRefused("password", with(base, "password", "two\nlines"));
        assertRefused("capath", with(base, "capath", "relative/certs"));
        assertRefused("certkey", with(base, "cert", "/etc/corral/client.pem"));
        assertThatThrownBy(() -> fx.call(POST, "/access/domains", ADMIN,
                with(with(base, "filter", "(uid=x"), "capath", "certs")))
                .isInstanceOfSatisfying(ParameterError.class, e -> assertThat(e.errors()).containsOnlyKeys("filter", "capath"));
        assertThatThrownBy(() -> fx.call(PUT, "/access/domains/pve", ADMIN, "password", "x"))
                .isInstanceOfSatisfying(ParameterError.class, e -> assertThat(e.errors()).containsKey("password"));
        assertThatThrownBy(() -> fx.call(POST, "/access/domains/pve/sync", ADMIN, "scope", "users"))
                .isInstanceOfSatisfying(ParameterError.class, e -> assertThat(e.errors()).containsKey("realm"));
    }

    @Test
    void syncOptionsParse() {
        assertThat(LdapSync.parseRemoveVanished("none")).isEmpty();
        assertThat(LdapSync.parseRemoveVanished("acl;entry")).isEqualTo(Set.of("acl", "entry"));
        assertThatThrownBy(() -> LdapSync.parseRemoveVanished("acl;users")).hasMessageContaining("users");
        assertThat(LdapSync.syncAttributes("email=mail, firstname=givenName"))
                .containsExactly(Map.entry("email", "mail"), Map.entry("firstname", "givenName"));
    }

    private static String[] with(String[] base, String key, String value) {
        String[] result = java.util.Arrays.copyOf(base, base.length + 2);
        result[base.length] = key;
        result[base.length + 1] = value;
        return result;
    }
}
