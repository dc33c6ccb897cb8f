package org.corral.access.realm;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.corral.access.config.AclEntry;
import org.corral.access.config.Group;
import org.corral.access.config.User;
import org.corral.access.config.UserConfig;
import org.junit.jupiter.api.Test;

class LdapSyncTest {
    private static final LdapSync.Directory DIRECTORY = new LdapSync.Directory(
            Map.of("alice", Map.of("email", "alice@example.com")), Map.of("devs", Set.of("alice", "ghost")));

    private static UserConfig before() {
        return UserConfig.empty()
                .withUser(User.of("bob@corp").withEmail("bob@example.com").withComment("local note"))
                .withUser(User.of("alice@corp").withComment("local note"))
                .withUser(User.of("carol@pve"))
                .withGroup(Group.of("old-corp").withComment("gone"))
                .withAcl(List.of(new AclEntry("/vms", AclEntry.Kind.USER, "bob@corp", "PVEAuditor", true)));
    }

    @Test
    void withoutRemoveVanishedOnlyAddsAndUpdates() {
        List<String> log = new ArrayList<>();
        UserConfig after = LdapSync.apply(before(), "corp", DIRECTORY, new LdapSync.Options("both", Set.of(), false), log::add);

        assertThat(after.user("alice@corp").orElseThrow().email()).isEqualTo("alice@example.com");
        assertThat(after.user("alice@corp").orElseThrow().comment()).isEqualTo("local note");
        assertThat(after.user("bob@corp")).isPresent();
        assertThat(after.acl()).hasSize(1);
        assertThat(after.group("devs-corp").orElseThrow().members()).containsExactly("alice@corp");
        assertThat(after.group("old-corp")).isPresent();
        assertThat(log).containsExactly("updating user 'alice@corp'", "adding group 'devs-corp' with members [alice@corp]");
    }

    @Test
    void removeVanishedAclAndPropertiesKeepTheEntries() {
        UserConfig after = LdapSync.apply(before(), "corp", DIRECTORY,
                new LdapSync.Options("both", Set.of("acl", "properties"), true), s -> { });

        assertThat(after.acl()).isEmpty();
        assertThat(after.user("bob@corp").orElseThrow().email()).isEmpty();
        assertThat(after.user("alice@corp").orElseThrow().comment()).isEmpty();
        assertThat(after.group("old-corp").orElseThrow().comment()).isEmpty();
        assertThat(after.user("carol@pve")).isPresent();
    }

    @Test
    void removeVanishedEntryDeletesUsersAndGroupsOfTheRealmOnly() {
        UserConfig after = LdapSync.apply(before(), "corp", DIRECTORY,
                new LdapSync.Options("both", Set.of("entry"), true), s -> { });

        assertThat(after.users()).containsOnlyKeys("alice@corp", "carol@pve", "root@pam");
        assertThat(after.groups()).containsOnlyKeys("devs-corp");
        assertThat(after.acl()).isEmpty();
    }

    @Test
    void newUsersAreEnabledAsAsked() {
        UserConfig empty = UserConfig.empty();
        assertThat(LdapSync.apply(empty, "corp", DIRECTORY, new LdapSync.Options("users", Set.of(), false), s -> { })
                .user("alice@corp").orElseThrow().enable()).isFalse();
        assertThat(LdapSync.apply(empty, "corp", DIRECTORY, new LdapSync.Options("users", Set.of(), true), s -> { })
                .groups()).isEmpty();
    }
}
