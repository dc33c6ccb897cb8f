package org.corral.access.realm;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.corral.access.AccessFixture;
import org.corral.access.AuthenticationException;
import org.corral.access.config.RealmConfig;
import org.corral.core.api.HttpVerb;
import org.corral.core.error.Unauthorized;
import org.junit.jupiter.api.Test;

/** Logs a temporary host account in through libpam; needs root to create the account. */
class PamRealmIT {
    private static final RealmConfig PAM = new RealmConfig("pam", "pam", Map.of());

    private static boolean root() {
        try {
            return "0".equals(run(List.of("id", "-u"), null).strip());
        } catch (IOException e) {
            return false;
        }
    }

    private static String run(List<String> command, String input) throws IOException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        if (input != null) {
            process.getOutputStream().write(input.getBytes(StandardCharsets.UTF_8));
        }
        process.getOutputStream().close();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
                throw new IOException(command + " failed: " + output);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
        return output;
    }

    @Test
    void hostAccountLogsInWithItsPasswordOnlyAndPasswordChangesApply() throws Exception {
        assumeTrue(root() && Files.exists(Path.of("/usr/sbin/useradd")), "needs root and useradd");
        String user = "corraltest" + ThreadLocalRandom.current().nextInt(100_000, 1_000_000);
        PamRealm realm = new PamRealm();
        run(List.of("useradd", "-m", user), null);
        try {
            run(List.of("chpasswd"), user + ":Right-Password-1\n");

            assertThatCode(() -> realm.authenticate(PAM, user, "Right-Password-1", "192.0.2.1")).doesNotThrowAnyException();
            assertThatThrownBy(() -> realm.authenticate(PAM, user, "Wrong-Password-1", "192.0.2.1"))
                    .isInstanceOf(AuthenticationException.class);
            assertThatThrownBy(() -> realm.authenticate(PAM, user + "x", "Right-Password-1", "192.0.2.1"))
                    .isInstanceOf(AuthenticationException.class);

            realm.storePassword(PAM, user, "Changed-Password-2");

            assertThatCode(() -> realm.authenticate(PAM, user, "Changed-Password-2", "192.0.2.1")).doesNotThrowAnyException();
            assertThatThrownBy(() -> realm.authenticate(PAM, user, "Right-Password-1", "192.0.2.1"))
                    .isInstanceOf(AuthenticationException.class);
        } finally {
            run(List.of("userdel", "-r", user), null);
        }
    }

    @Test
    void hostAccountLogsInThroughTheApiOnlyOnceItIsAUserOfTheCluster() throws Exception {
        assumeTrue(root() && Files.exists(Path.of("/usr/sbin/useradd")), "needs root and useradd");
        String user = "corraltest" + ThreadLocalRandom.current().nextInt(100_000, 1_000_000);
        run(List.of("useradd", "-m", user), null);
        try (AccessFixture fx = new AccessFixture()) {
            run(List.of("chpasswd"), user + ":Right-Password-1\n");

            assertThatThrownBy(() -> fx.call(HttpVerb.POST, "/access/ticket", AccessFixture.ANONYMOUS,
                    "username", user + "@pam", "password", "Right-Password-1")).isInstanceOf(Unauthorized.class);

            fx.call(HttpVerb.POST, "/access/users", AccessFixture.ADMIN, "userid", user + "@pam");

            assertThatCode(() -> fx.call(HttpVerb.POST, "/access/ticket", AccessFixture.ANONYMOUS,
                    "username", user, "realm", "pam", "password", "Right-Password-1")).doesNotThrowAnyException();
            assertThatThrownBy(() -> fx.call(HttpVerb.POST, "/access/ticket", AccessFixture.ANONYMOUS,
                    "username", user + "@pam", "password", "Wrong-Password-1")).isInstanceOf(Unauthorized.class);
        } finally {
            run(List.of("userdel", "-r", user), null);
        }
    }
}
