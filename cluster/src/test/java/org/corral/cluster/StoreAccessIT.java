package org.corral.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.corral.core.config.ConfigStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A local user that is not root (nobody) reads nothing of the config store: not through the
 * ZooKeeper client port (TLS only, with certificates of the store CA, then ACLs for the store
 * secret), not from ZooKeeper's files on disk. With the store's certificate and secret a plain
 * ZooKeeper client does read, so the probe itself can succeed.
 */
class StoreAccessIT {
    private static final String SECRET = "TICKET-KEY-MATERIAL-4711";
    private static final String KEY_ZNODE = ZkConfigStore.ROOT + "/priv/authkey.key";
    private static final String PATHS = KEY_ZNODE + "," + ZkConfigStore.ROOT + "/priv," + ZkConfigStore.ROOT + ",/corral";

    private Path base;

    @BeforeEach
    void createBase() throws IOException {
        // the probe's jars and source must be readable by nobody; the node's data must not be
        base = Files.createTempDirectory(Path.of("/var/tmp"), "corral-store-access-",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
    }

    @AfterEach
    void deleteBase() throws IOException {
        try (Stream<Path> all = Files.walk(base)) {
            for (Path p : all.sorted((a, b) -> b.compareTo(a)).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    @Test
    void nobodyGetsNoDataThroughThePortOrOnDiskAndTheStoresCredentialsDo() throws Exception {
        Path probe = probe();
        try (ClusterStore cluster = ClusterStore.start(TestNodes.node(base, "pve1"))) {
            cluster.store().write("priv/authkey.key", SECRET + "\n", ConfigStore.NEW);
            String connect = cluster.zooKeeper().connectString();

            // in the clear, as nobody: the port speaks TLS only
            String plain = run(probe, true, List.of(), connect, PATHS);
            assertThat(plain).contains("STATE CONNECTING").doesNotContain(SECRET).doesNotContain("READ ");

            // TLS with a certificate of another CA, as nobody, guessing the secret: the server refuses the handshake
            StoreTls foreign = StoreTls.loadOrCreate(base.resolve("foreign"), "intruder");
            // it trusts the real store CA (whose certificate is no secret), so only the server's check of its certificate stops it
            Files.writeString(foreign.directory().resolve("ca.pem"), cluster.zooKeeper().tls().caPem());
            readableByAll(foreign.directory());
            String forged = run(probe, true, tls(foreign), connect, PATHS, StoreCredentials.USER + ":guess");
            assertThat(forged).contains("STATE CONNECTING").doesNotContain(SECRET).doesNotContain("READ ");

            // a member's certificate without the store secret: connected, but every ACL refuses
            String noSecret = run(probe, false, tls(cluster.zooKeeper().tls()), connect, PATHS);
            assertThat(noSecret).contains("STATE CONNECTED")
                    .contains("DENIED " + KEY_ZNODE + " NOAUTH")
                    .contains("DENIED-LIST / NOAUTH")
                    .doesNotContain(SECRET)
                    .doesNotContain("READ ");

            StoreCredentials credentials = cluster.zooKeeper().credentials();
            String withCredentials = run(probe, false, tls(cluster.zooKeeper().tls()), connect, PATHS,
                    credentials.user() + ":" + credentials.secret());
            assertThat(withCredentials).contains("READ " + KEY_ZNODE + " " + SECRET);

            cluster.store().sync();
            Path zooKeeperDir = cluster.zooKeeper().directory();
            List<Path> files = new ArrayList<>();
            try (Stream<Path> all = Files.walk(zooKeeperDir)) {
                all.filter(Files::isRegularFile).forEach(files::add);
            }
            assertThat(files).isNotEmpty();
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(zooKeeperDir))).isEqualTo("rwx------");
            for (Path file : files) {
                Process cat = new ProcessBuilder("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "cat", file.toString())
                        .redirectErrorStream(true).start();
                String out = new String(cat.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertThat(cat.waitFor(10, TimeUnit.SECONDS)).isTrue();
                assertThat(cat.exitValue()).as("nobody reading " + file + ": " + out).isNotZero();
                assertThat(out).contains("Permission denied");
            }
        }
    }

    /** ZkProbe.java and the jars it needs, copied where nobody can read them. */
    private Path probe() throws IOException {
        Path dir = Files.createDirectories(base.resolve("probe"));
        // the test's own class path (surefire names it): ZooKeeper's client and what it loads
        String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        for (String entry : classPath.split(java.io.File.pathSeparator)) {
            Path jar = Path.of(entry);
            if (entry.endsWith(".jar") && Files.isRegularFile(jar) && !Files.exists(dir.resolve(jar.getFileName()))) {
                Files.copy(jar, dir.resolve(jar.getFileName()));
            }
        }
        try (InputStream in = getClass().getResourceAsStream("/ZkProbe.java")) {
            Files.write(dir.resolve("ZkProbe.java"), in.readAllBytes());
        }
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.toList()) {
                Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(Files.isDirectory(p) ? "rwxr-xr-x" : "rw-r--r--"));
            }
        }
        return dir;
    }

    /** ZooKeeper's client TLS settings as system properties, from the files of {@code tls}. */
    private static List<String> tls(StoreTls tls) {
        List<String> properties = new ArrayList<>();
        for (String key : List.of("zookeeper.client.secure", "zookeeper.clientCnxnSocket", "zookeeper.ssl.keyStore.location",
                "zookeeper.ssl.keyStore.type", "zookeeper.ssl.trustStore.location", "zookeeper.ssl.trustStore.type",
                "zookeeper.ssl.hostnameVerification")) {
            properties.add("-D" + key + "=" + java.util.Objects.requireNonNull(tls.clientConfig().getProperty(key), key));
        }
        return properties;
    }

    private static void readableByAll(Path dir) throws IOException {
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.toList()) {
                Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(Files.isDirectory(p) ? "rwxr-xr-x" : "rw-r--r--"));
            }
        }
    }

    private static String run(Path probe, boolean asNobody, List<String> properties, String... args) throws Exception {
        List<String> command = new ArrayList<>();
        if (asNobody) {
            command.addAll(List.of("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"));
        }
        command.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-XX:-UsePerfData",
                "-Dzookeeper.jmx.log4j.disable=true"));
        command.addAll(properties);
        command.addAll(List.of("-cp", probe.resolve("*").toString(), probe.resolve("ZkProbe.java").toString()));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).directory(probe.toFile()).redirectErrorStream(true).start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).as(out).isZero();
        return out;
    }
}
