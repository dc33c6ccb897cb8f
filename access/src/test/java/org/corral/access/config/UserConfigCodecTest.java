package org.corral.access.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.corral.core.access.Privilege;
import org.junit.jupiter.api.Test;

class UserConfigCodecTest {
    /** Written the way Proxmox VE writes user.cfg: users with their tokens, groups, pools, roles, ACLs. */
    static final String GOLDEN = """
            user:alice@pve:1:1767225600:Alice:Example:alice@example.com:ops team%3A Berlin %C3%A4::
            token:alice@pve!ci:0:1:CI pipeline:
            token:alice@pve!full:1893456000:0::
            user:bob@pam:0:0::::::
            user:carol@pve:1:0:::carol@example.com:::
            user:root@pam:1:0::::::

            group:admins:alice@pve,bob@pam:Administrators:
            group:empty:::

            pool:dev:Development:100,1000,200:local,nfs-store:
            pool:dev/sub::::

            role:Backup:Datastore.AllocateSpace,Datastore.Audit,VM.Audit,VM.Backup:

            acl:1:/:alice@pve:Administrator:
            acl:1:/:@admins:PVEAuditor:
            acl:0:/pool/dev:alice@pve!ci:PVEVMUser:
            acl:1:/storage:@admins,bob@pam:Backup:
            acl:1:/vms/100:alice@pve!ci:NoAccess,PVEVMAdmin:
            """;

    @Test
    void goldenFileReadsAndWritesBackByteForByte() {
        assertThat(UserConfigCodec.write(UserConfigCodec.parse(GOLDEN))).isEqualTo(GOLDEN);
    }

    @Test
    void goldenFileParsesIntoUsersTokensGroupsPoolsRolesAndAcls() {
        UserConfig config = UserConfigCodec.parse(GOLDEN);

        User alice = config.user("alice@pve").orElseThrow();
        assertThat(alice.enable()).isTrue();
        assertThat(alice.expire()).isEqualTo(1767225600L);
        assertThat(alice.comment()).isEqualTo("ops team: Berlin ä");
        assertThat(alice.tokens()).containsOnlyKeys("ci", "full");
        assertThat(alice.tokens().get("ci")).isEqualTo(new ApiToken("ci", 0, true, "CI pipeline"));
        assertThat(config.user("bob@pam").orElseThrow().enable()).isFalse();
        assertThat(config.groupsOf("bob@pam")).containsExactly("admins");
        assertThat(config.pool("dev").orElseThrow().vms()).containsExactly(100, 1000, 200);
        assertThat(config.poolOfVm(1000)).contains("dev");
        assertThat(config.role("Backup").orElseThrow().privileges())
                .containsExactlyInAnyOrder(Privilege.DATASTORE_ALLOCATE_SPACE, Privilege.DATASTORE_AUDIT, Privilege.VM_AUDIT, Privilege.VM_BACKUP);
        assertThat(config.acl()).contains(
                new AclEntry("/vms/100", AclEntry.Kind.TOKEN, "alice@pve!ci", "NoAccess", true),
                new AclEntry("/pool/dev", AclEntry.Kind.TOKEN, "alice@pve!ci", "PVEVMUser", false),
                new AclEntry("/", AclEntry.Kind.GROUP, "admins", "PVEAuditor", true));
    }

    @Test
    void emptyFileHasRootAndWritesFourSeparators() {
        UserConfig config = UserConfigCodec.parse("");

        assertThat(config.users()).containsOnlyKeys("root@pam");
        assertThat(UserConfigCodec.write(config)).isEqualTo("user:root@pam:1:0::::::\n\n\n\n\n");
    }

    @Test
    void invalidLinesAndEntriesAreSkippedAsProxmoxDoes() {
        String text = """
                user:root@pam:1:0::::::
                user:noatsign:1:0::::::
                user:dave@pve:1:soon::::::
                token:ghost@pve!t:0:1::
                bogus:line
                group:bad!name:root@pam::
                group:g:root@pam,invalid,ghost@pve::
                role:Custom:VM.Audit,VM.Invalid:
                role:PVEAdmin:Sys.PowerMgmt:
                acl:1:/vms/100:root@pam,@g:Custom:
                acl:1:/bad path:@g:Custom:
                acl:1:/:@g:MissingRole:
                acl:1:/:root@pam!nope:Custom:
                pool:p1::100,abc:local,inval!d:
                pool:p2::100,101::
                """;

        UserConfig config = UserConfigCodec.parse(text);

        assertThat(config.users()).containsOnlyKeys("root@pam");
        assertThat(config.groups()).containsOnlyKeys("g");
        // members that look like user ids are kept even when the user does not exist, as in Proxmox
        assertThat(config.group("g").orElseThrow().members()).containsExactly("ghost@pve", "root@pam");
        assertThat(config.customRoles()).containsOnlyKeys("Custom");
        assertThat(config.role("PVEAdmin").orElseThrow().privileges()).doesNotContain(Privilege.SYS_POWER_MGMT);
        assertThat(config.pool("p1").orElseThrow().vms()).containsExactly(100);
        assertThat(config.pool("p1").orElseThrow().storage()).containsExactly("local");
        assertThat(config.pool("p2").orElseThrow().vms()).containsExactly(101);
        assertThat(UserConfigCodec.write(config)).isEqualTo("""
                user:root@pam:1:0::::::

                group:g:ghost@pve,root@pam::

                pool:p1::100:local:
                pool:p2::101::

                role:Custom:VM.Audit:

                acl:1:/vms/100:@g:Custom:
                """);
    }

    @Test
    void aclLineBeforeItsRoleIsDroppedBecauseParsingIsInFileOrder() {
        UserConfig config = UserConfigCodec.parse("acl:1:/:@g:Late:\nrole:Late:VM.Audit:\ngroup:g:::\n");

        assertThat(config.acl()).isEmpty();
        assertThat(config.customRoles()).containsOnlyKeys("Late");
    }

    @Test
    void fieldsFollowPerlTruthiness() {
        UserConfig config = UserConfigCodec.parse("user:x@pve::0:0:Doe:::\n");

        User user = config.user("x@pve").orElseThrow();
        assertThat(user.enable()).isFalse();
        assertThat(user.firstname()).isEmpty();
        assertThat(user.lastname()).isEqualTo("Doe");
    }

    @Test
    void rootAclEntriesAreNotWritten() {
        UserConfig config = UserConfig.empty().withAcl(List.of(
                new AclEntry("/", AclEntry.Kind.USER, "root@pam", "Administrator", true)));

        assertThat(UserConfigCodec.write(config)).doesNotContain("acl:");
    }

    @Test
    void aclPathsAreWrittenInTreeOrderNotStringOrder() {
        UserConfig config = UserConfigCodec.parse("""
                group:g:::
                acl:1:/pool-x:@g:PVEAuditor:
                acl:1:/pool/a:@g:PVEAuditor:
                acl:1:/pool:@g:PVEAuditor:
                """);

        assertThat(UserConfigCodec.write(config)).endsWith("""
                acl:1:/pool:@g:PVEAuditor:
                acl:1:/pool/a:@g:PVEAuditor:
                acl:1:/pool-x:@g:PVEAuditor:
                """);
    }

    @Test
    void oneSubjectWithPropagatedAndLocalRolesGetsTwoLines() {
        UserConfig config = UserConfigCodec.parse("""
                user:u@pve:1:0::::::
                acl:1:/vms:u@pve:PVEAuditor:
                acl:0:/vms:u@pve:PVEVMUser:
                """);

        assertThat(UserConfigCodec.write(config)).endsWith("""
                acl:0:/vms:u@pve:PVEVMUser:
                acl:1:/vms:u@pve:PVEAuditor:
                """);
    }

    @Test
    void textFieldsWithColonsNewlinesAndUnicodeSurviveARoundTrip() {
        UserConfig config = UserConfig.empty().withUser(User.of("u@pve").withComment("a:b\nc – ü 50%").withFirstname("Zoë"));

        String text = UserConfigCodec.write(config);

        assertThat(text).contains("user:u@pve:1:0:Zo%C3%AB:::a%3Ab%0Ac %E2%80%93 %C3%BC 50%::");
        assertThat(UserConfigCodec.parse(text).user("u@pve").orElseThrow().comment()).isEqualTo("a:b\nc – ü 50%");
    }

    @Test
    void deletingAUserRemovesItsTokensMembershipsAndAclEntries() {
        UserConfig config = UserConfigCodec.parse(GOLDEN).withoutUser("alice@pve");

        assertThat(UserConfigCodec.write(config)).doesNotContain("alice");
        assertThat(config.group("admins").orElseThrow().members()).containsExactly("bob@pam");
    }
}
