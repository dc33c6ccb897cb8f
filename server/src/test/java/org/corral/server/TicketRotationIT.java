package org.corral.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.corral.core.config.ConfigFile;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Ticket signing keys on a real node: a rotation keeps issued tickets working, foreign keys get nowhere. */
class TicketRotationIT {
    static final String PASSWORD = "admin-pass-1";
    @TempDir
    static Path dataDir;
    static CorralDaemon daemon;

    @BeforeAll
    static void start() throws Exception {
        daemon = CorralDaemon.start(new CorralDaemon.Options("ticketnode", dataDir, "127.0.0.1", 0, Optional.of(PASSWORD)));
    }

    @AfterAll
    static void stop() {
        if (daemon != null) {
            daemon.close();
        }
    }

    private static String file(String path) {
        return daemon.store().read(path).map(ConfigFile::text).orElse("");
    }

    /** A ticket of the right shape, signed with a key this cluster never had. */
    private static String forged(String userid) throws Exception {
        String plain = "PVE:" + userid + ":" + String.format(Locale.ROOT, "%08X", Instant.now().getEpochSecond());
        Signature signature = Signature.getInstance("Ed25519");
        signature.initSign(KeyPairGenerator.getInstance("Ed25519").generateKeyPair().getPrivate());
        signature.update(plain.getBytes(StandardCharsets.UTF_8));
        return plain + "::" + Base64.getEncoder().encodeToString(signature.sign());
    }

    @Test
    void ticketFromBeforeARotationStillWorksAndAForgedOneIsRefused() throws Exception {
        TestClient before = new TestClient(daemon.port()).login("admin@pve", PASSWORD);
        assertThat(before.get("/version").status()).isEqualTo(200);
        String signedWith = file("authkey.pub");
        assertThat(signedWith).contains("-----BEGIN PUBLIC KEY-----");

        // make the key look a day old: the next login rotates it, as it would after 24 hours
        ConfigFile pub = daemon.store().read("authkey.pub").orElseThrow();
        String aged = pub.text().replaceFirst("created: \\d+",
                "created: " + Instant.now().minus(Duration.ofHours(25)).getEpochSecond());
        daemon.store().write("authkey.pub", aged, pub.version());
        TestClient after = new TestClient(daemon.port());
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        do {
            // the node learns of the change through a store watch
            after.login("admin@pve", PASSWORD);
        } while (file("authkey.pub").equals(aged) && System.nanoTime() < deadline);

        assertThat(file("authkey.pub")).isNotIn(aged, signedWith);
        assertThat(file("authkey.pub.old")).isEqualTo(signedWith);
        assertThat(before.get("/version").status()).isEqualTo(200);
        assertThat(before.post("/access/users", Map.of("userid", "rotated@pve")).status()).isEqualTo(200);
        assertThat(after.get("/version").status()).isEqualTo(200);
        // the old ticket still renews
        assertThat(new TestClient(daemon.port()).login("admin@pve", before.ticket()).get("/version").status()).isEqualTo(200);

        for (String userid : new String[] {"admin@pve", "root@pam"}) {
            assertThat(new TestClient(daemon.port()).withTicket(forged(userid)).get("/version").status()).isEqualTo(401);
        }
        String tampered = after.ticket().replace("PVE:admin@pve:", "PVE:root@pam:");
        assertThat(new TestClient(daemon.port()).withTicket(tampered).get("/version").status()).isEqualTo(401);
    }
}
