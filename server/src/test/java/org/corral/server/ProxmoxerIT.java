package org.corral.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Debian's python3-proxmoxer, a real Proxmox VE client, against a real node. */
class ProxmoxerIT {
    @TempDir
    Path dataDir;

    @Test
    void proxmoxerLogsInCreatesUsersTokensAclsAndIsRefusedWhereItShouldBe() throws Exception {
        runScript("access_e2e.py");
    }

    @Test
    void proxmoxerSeesProxmoxAnswersForMissingObjectsAndSlashedVolumeIds() throws Exception {
        runScript("answers_e2e.py");
    }

    @Test
    void proxmoxerEditsFirewallOptionsRulesGroupsIpsetsAndAliasesAsAnsibleDoes() throws Exception {
        runScript("firewall_e2e.py");
    }

    @Test
    void proxmoxerLogsInWithATotpSecondFactorAndRecoveryKeys() throws Exception {
        runScript("tfa_e2e.py");
    }

    @Test
    void proxmoxerBacksUpAVmListsExtractsRestoresAndDeletesTheBackup() throws Exception {
        runScript("vzdump_e2e.py");
    }

    private void runScript(String name) throws Exception {
        Path script = dataDir.resolve(name);
        try (var in = getClass().getResourceAsStream("/e2e/" + name)) {
            Files.write(script, in.readAllBytes());
        }
        try (CorralDaemon daemon = CorralDaemon.start(new CorralDaemon.Options("e2enode", dataDir.resolve("data"), "127.0.0.1", 0,
                Optional.of("e2e-admin-pass")))) {
            Process python = new ProcessBuilder("/usr/bin/python3", script.toString(), "127.0.0.1",
                    Integer.toString(daemon.port()), "e2e-admin-pass").redirectErrorStream(true).start();
            String output = new String(python.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(python.waitFor(120, TimeUnit.SECONDS)).isTrue();
            System.out.println(output);
            assertThat(python.exitValue()).as(output).isZero();
            assertThat(output).contains("ALL OK");
        }
    }
}
