package org.corral.access.realm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.corral.access.AccessFixture.ADMIN;
import static org.corral.access.AccessFixture.ANONYMOUS;
import static org.corral.core.api.HttpVerb.POST;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.unboundid.ldap.listener.LDAPListener;
import com.unboundid.ldap.listener.LDAPListenerClientConnection;
import com.unboundid.ldap.listener.LDAPListenerConfig;
import com.unboundid.ldap.listener.LDAPListenerRequestHandler;
import com.unboundid.ldap.listener.ProxyRequestHandler;
import com.unboundid.ldap.protocol.AddRequestProtocolOp;
import com.unboundid.ldap.protocol.BindRequestProtocolOp;
import com.unboundid.ldap.protocol.CompareRequestProtocolOp;
import com.unboundid.ldap.protocol.DeleteRequestProtocolOp;
import com.unboundid.ldap.protocol.ExtendedRequestProtocolOp;
import com.unboundid.ldap.protocol.LDAPMessage;
import com.unboundid.ldap.protocol.ModifyDNRequestProtocolOp;
import com.unboundid.ldap.protocol.ModifyRequestProtocolOp;
import com.unboundid.ldap.protocol.SearchRequestProtocolOp;
import com.unboundid.ldap.sdk.Control;
import com.unboundid.ldap.sdk.Filter;
import com.unboundid.ldap.sdk.LDAPConnection;
import com.unboundid.ldap.sdk.LDAPException;
import com.unboundid.ldap.sdk.SearchResultEntry;
import com.unboundid.ldap.sdk.SearchScope;
import com.unboundid.ldap.sdk.SingleServerSet;
import com.unboundid.ldif.LDIFReader;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.corral.access.AccessFixture;
import org.corral.core.error.ParameterError;
import org.corral.core.error.Unauthorized;
import org.corral.core.node.Node;
import org.corral.core.task.LogLine;
import org.corral.core.task.TaskManager;
import org.corral.core.task.TaskStatus;
import org.corral.core.task.Upid;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * LDAP and AD realms against a real OpenLDAP slapd started in a temp dir on loopback ports, with
 * its own slapd.conf and a self-signed certificate for LDAPS and StartTLS. Active Directory's
 * {@code user@domain} bind is emulated by a small UnboundID proxy in front of slapd that maps the
 * bind name to the entry with that {@code userPrincipalName} (slapd takes DNs only as bind names).
 */
class LdapRealmIT {
    private static final String SUFFIX = "dc=example,dc=com";
    private static final String ROOT_DN = "cn=admin," + SUFFIX;
    private static final String ROOT_PW = "root-secret-1";

    private static Path dir;
    private static Process slapd;
    private static int ldapPort;
    private static int ldapsPort;
    private static LDAPListener adProxy;

    @BeforeAll
    static void startSlapd() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/sbin/slapd")) && Files.exists(Path.of("/usr/lib/ldap/back_mdb.so")),
                "needs Debian's slapd (scripts/setup --test installs it)");
        dir = Files.createTempDirectory("corral-slapd");
        Files.createDirectories(dir.resolve("db"));
        run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
                "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                "-keyout", dir.resolve("key.pem").toString(), "-out", dir.resolve("cert.pem").toString());
        Files.writeString(dir.resolve("ad.schema"), """
                attributetype ( 1.2.840.113556.1.4.656 NAME 'userPrincipalName'
                  EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch
                  SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
                attributetype ( 1.2.840.113556.1.4.221 NAME 'sAMAccountName'
                  EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
                objectclass ( 1.3.6.1.4.1.55555.1.1 NAME 'corralAdUser' SUP top AUXILIARY
                  MAY ( userPrincipalName $ sAMAccountName ) )
                """);
        Files.writeString(dir.resolve("slapd.conf"), """
                include /etc/ldap/schema/core.schema
                include /etc/ldap/schema/cosine.schema
                include /etc/ldap/schema/inetorgperson.schema
                include /etc/ldap/schema/nis.schema
                include %1$s/ad.schema
                modulepath /usr/lib/ldap
                moduleload back_mdb
                pidfile %1$s/slapd.pid
                argsfile %1$s/slapd.args
                TLSCertificateFile %1$s/cert.pem
                TLSCertificateKeyFile %1$s/key.pem
                database mdb
                maxsize 10485760
                suffix "%2$s"
                rootdn "%3$s"
                rootpw %4$s
                directory %1$s/db
                access to attrs=userPassword by anonymous auth by self write by * none
                access to * by * read
                """.formatted(dir, SUFFIX, ROOT_DN, ROOT_PW));
        ldapPort = freePort();
        ldapsPort = freePort();
        slapd = new ProcessBuilder("/usr/sbin/slapd", "-d", "0", "-f", dir.resolve("slapd.conf").toString(), "-h",
                "ldap://127.0.0.1:" + ldapPort + "/ ldaps://127.0.0.1:" + ldapsPort + "/")
                .redirectErrorStream(true).redirectOutput(dir.resolve("slapd.log").toFile()).start();
        awaitPort(ldapPort);
        awaitPort(ldapsPort);
        try (LDAPConnection c = new LDAPConnection("127.0.0.1", ldapPort, ROOT_DN, ROOT_PW)) {
            String ldif = """
                    dn: %1$s
                    objectClass: dcObject
                    objectClass: organization
                    dc: example
                    o: Example

                    dn: ou=people,%1$s
                    objectClass: organizationalUnit
                    ou: people

                    dn: ou=groups,%1$s
                    objectClass: organizationalUnit
                    ou: groups

                    dn: uid=alice,ou=people,%1$s
                    objectClass: inetOrgPerson
                    uid: alice
                    cn: Alice Example
                    givenName: Alice
                    sn: Example
                    mail: alice@example.com
                    userPassword: Alice-Secret-1

                    dn: uid=bob,ou=people,%1$s
                    objectClass: inetOrgPerson
                    uid: bob
                    cn: Bob Example
                    sn: Example
                    mail: bob@example.com
                    userPassword: Bob-Secret-1

                    dn: uid=carol,ou=people,%1$s
                    objectClass: inetOrgPerson
                    objectClass: corralAdUser
                    uid: carol
                    cn: Carol Example
                    sn: Example
                    userPrincipalName: carol@ad.example.com
                    sAMAccountName: carol
                    userPassword: Carol-Secret-1

                    dn: cn=devs,ou=groups,%1$s
                    objectClass: groupOfNames
                    cn: devs
                    member: uid=alice,ou=people,%1$s
                    member: uid=bob,ou=people,%1$s
                    """.formatted(SUFFIX);
            try (LDIFReader reader = new LDIFReader(new ByteArrayInputStream(ldif.getBytes(StandardCharsets.UTF_8)))) {
                for (var entry = reader.readEntry(); entry != null; entry = reader.readEntry()) {
                    c.add(entry);
                }
            }
        }
        LDAPListenerConfig config = new LDAPListenerConfig(0,
                new UpnBind(new ProxyRequestHandler(new SingleServerSet("127.0.0.1", ldapPort))));
        config.setListenAddress(InetAddress.getLoopbackAddress());
        adProxy = new LDAPListener(config);
        adProxy.startListening();
    }

    @AfterAll
    static void stopSlapd() throws Exception {
        if (adProxy != null) {
            adProxy.shutDown(true);
        }
        if (slapd != null) {
            slapd.destroy();
            if (!slapd.waitFor(10, TimeUnit.SECONDS)) {
                slapd.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
        if (dir != null) {
            try (Stream<Path> files = Files.walk(dir)) {
                for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    private static String[] realm(String name, String mode, int port, String... more) {
        List<String> params = new java.util.ArrayList<>(List.of("realm", name, "type", "ldap", "server1", "127.0.0.1",
                "port", Integer.toString(port), "mode", mode, "base_dn", "ou=people," + SUFFIX, "user_attr", "uid"));
        params.addAll(List.of(more));
        return params.toArray(String[]::new);
    }

    private static void login(AccessFixture fx, String user, String password) throws Exception {
        fx.call(POST, "/access/ticket", ANONYMOUS, "username", user, "password", password);
    }

    @Test
    void usersLogInByBindingAsThemselvesOverLdapsAndStartTls() throws Exception {
        String cert = dir.resolve("cert.pem").toString();
        try (AccessFixture fx = new AccessFixture()) {
            fx.call(POST, "/access/domains", ADMIN, realm("plain", "ldap", ldapPort));
            fx.call(POST, "/access/domains", ADMIN, realm("secure", "ldaps", ldapsPort, "verify", "1", "capath", cert,
                    "bind_dn", ROOT_DN, "password", ROOT_PW));
            fx.call(POST, "/access/domains", ADMIN, realm("stls", "ldap+starttls", ldapPort, "verify", "1", "capath", cert));
            fx.call(POST, "/access/domains", ADMIN, realm("untrusted", "ldaps", ldapsPort, "verify", "1"));
            String before = fx.store.text("domains.cfg");
            assertThatThrownBy(() -> fx.call(POST, "/access/domains", ADMIN, realm("checked", "ldaps", ldapsPort, "verify", "1",
                    "capath", cert, "bind_dn", ROOT_DN, "password", "wrong-bind-pw", "check-connection", "1")))
                    .isInstanceOfSatisfying(ParameterError.class, e -> assertThat(e.errors()).containsKey("check-connection"));
            assertThat(fx.store.text("domains.cfg")).isEqualTo(before);
            assertThat(fx.store.read("priv/ldap/checked.pw")).isEmpty();
            fx.call(POST, "/access/domains", ADMIN, realm("checked", "ldaps", ldapsPort, "verify", "1",
                    "capath", cert, "bind_dn", ROOT_DN, "password", ROOT_PW, "check-connection", "1"));
            assertThat(fx.store.text("domains.cfg")).contains("ldap: checked\n").doesNotContain("check-connection");
            fx.call(POST, "/access/domains", ADMIN, realm("tls13", "ldap+starttls", ldapPort, "sslversion", "tlsv1_3"));
            fx.call(POST, "/access/domains", ADMIN, realm("tls10", "ldaps", ldapsPort, "sslversion", "tlsv1"));
            fx.call(POST, "/access/domains", ADMIN, realm("ci", "ldap", ldapPort, "case-sensitive", "0"));
            for (String realm : List.of("plain", "secure", "stls", "untrusted", "tls13", "tls10", "ci")) {
                fx.call(POST, "/access/users", ADMIN, "userid", "alice@" + realm);
            }

            // a case-insensitive realm finds alice@ci for ALICE@ci; a case-sensitive one does not
            @SuppressWarnings("unchecked")
            Map<String, Object> ticket = (Map<String, Object>) fx.call(POST, "/access/ticket", ANONYMOUS,
                    "username", "ALICE@ci", "password", "Alice-Secret-1");
            assertThat(ticket).containsEntry("username", "alice@ci");
            assertThatThrownBy(() -> login(fx, "ALICE@plain", "Alice-Secret-1")).isInstanceOf(Unauthorized.class);

            assertThatCode(() -> login(fx, "alice@plain", "Alice-Secret-1")).doesNotThrowAnyException();
            assertThatCode(() -> login(fx, "alice@secure", "Alice-Secret-1")).doesNotThrowAnyException();
            assertThatCode(() -> login(fx, "alice@stls", "Alice-Secret-1")).doesNotThrowAnyException();
            assertThatThrownBy(() -> login(fx, "alice@secure", "Wrong-Secret-1")).isInstanceOf(Unauthorized.class)
                    .hasMessageContaining("authentication failure");
            assertThatThrownBy(() -> login(fx, "alice@stls", "")).isInstanceOf(Exception.class);
            // sslversion pins the protocol: TLS 1.3 is there, TLS 1.0 is disabled in the JVM (and GnuTLS)
            assertThatCode(() -> login(fx, "alice@tls13", "Alice-Secret-1")).doesNotThrowAnyException();
            assertThatThrownBy(() -> login(fx, "alice@tls10", "Alice-Secret-1")).isInstanceOf(Unauthorized.class);
            // the self-signed certificate is not in the JVM's trust store: verify refuses the server
            assertThatThrownBy(() -> login(fx, "alice@untrusted", "Alice-Secret-1")).isInstanceOf(Unauthorized.class);
        }
    }

    @Test
    void syncCreatesUsersAndGroupsAfterADryRunAndRemovesVanishedUsers() throws Exception {
        Path tasksDir = dir.resolveSibling(dir.getFileName() + "-tasks");
        Node node = new Node("pve1", tasksDir.resolve("data"), tasksDir.resolve("run"), "127.0.0.1", 8006,
                new Node.ZooKeeperPorts(2181, 2888, 3888));
        try (TaskManager tasks = new TaskManager(node); AccessFixture fx = new AccessFixture(true, Optional.of(tasks))) {
            fx.call(POST, "/access/domains", ADMIN, realm("corp", "ldap", ldapPort, "bind_dn", ROOT_DN, "password", ROOT_PW,
                    "group_dn", "ou=groups," + SUFFIX, "sync_attributes", "email=mail,firstname=givenName,lastname=sn"));

            String dryRun = (String) fx.call(POST, "/access/domains/corp/sync", ADMIN, "scope", "both", "dry-run", "1");
            assertThat(Upid.parse(dryRun).type()).isEqualTo("auth-realm-sync-test");
            String log = finish(tasks, dryRun);
            assertThat(log).contains("adding user 'alice@corp'", "adding group 'devs-corp'", "NOTE: Dry run");
            assertThat(fx.userCfg()).doesNotContain("@corp");

            String real = (String) fx.call(POST, "/access/domains/corp/sync", ADMIN, "scope", "both", "enable-new", "1");
            assertThat(Upid.parse(real).type()).isEqualTo("auth-realm-sync");
            assertThat(finish(tasks, real)).contains("adding user 'bob@corp'");
            assertThat(fx.userCfg()).contains("user:alice@corp:1:0:Alice:Example:alice@example.com:",
                    "user:bob@corp:1:0::Example:bob@example.com:", "user:carol@corp:1:0:",
                    "group:devs-corp:alice@corp,bob@corp:");
            fx.call(org.corral.core.api.HttpVerb.PUT, "/access/acl", ADMIN, "path", "/vms", "roles", "PVEAuditor",
                    "users", "bob@corp");

            try (LDAPConnection c = new LDAPConnection("127.0.0.1", ldapPort, ROOT_DN, ROOT_PW)) {
                c.modify("cn=devs,ou=groups," + SUFFIX, new com.unboundid.ldap.sdk.Modification(
                        com.unboundid.ldap.sdk.ModificationType.DELETE, "member", "uid=bob,ou=people," + SUFFIX));
                c.delete("uid=bob,ou=people," + SUFFIX);
            }
            String vanished = (String) fx.call(POST, "/access/domains/corp/sync", ADMIN, "scope", "both",
                    "remove-vanished", "acl;entry;properties");
            assertThat(finish(tasks, vanished)).contains("removing user 'bob@corp'");
            assertThat(fx.userCfg()).doesNotContain("bob@corp").contains("user:alice@corp:", "group:devs-corp:alice@corp:");

            // the synced user logs in with the directory password
            assertThatCode(() -> login(fx, "alice@corp", "Alice-Secret-1")).doesNotThrowAnyException();
        } finally {
            try (Stream<Path> files = Files.walk(tasksDir)) {
                for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    @Test
    void anAdRealmLogsInWithUserAtDomain() throws Exception {
        try (AccessFixture fx = new AccessFixture()) {
            fx.call(POST, "/access/domains", ADMIN, "realm", "corpad", "type", "ad", "server1", "127.0.0.1", "port",
                    Integer.toString(adProxy.getListenPort()), "domain", "ad.example.com");
            fx.call(POST, "/access/users", ADMIN, "userid", "carol@corpad");
            fx.call(POST, "/access/users", ADMIN, "userid", "alice@corpad");

            assertThatCode(() -> login(fx, "carol@corpad", "Carol-Secret-1")).doesNotThrowAnyException();
            assertThatThrownBy(() -> login(fx, "carol@corpad", "Alice-Secret-1")).isInstanceOf(Unauthorized.class);
            // alice has no userPrincipalName: there is no alice@ad.example.com to bind as
            assertThatThrownBy(() -> login(fx, "alice@corpad", "Alice-Secret-1")).isInstanceOf(Unauthorized.class);
        }
    }

    private static String finish(TaskManager tasks, String upid) {
        Upid id = Upid.parse(upid);
        TaskStatus status = tasks.awaitCompletion(id, Duration.ofSeconds(30));
        String log = tasks.log(id, 0, 1000).lines().stream().map(LogLine::t).collect(Collectors.joining("\n"));
        assertThat(status.exitstatus()).as(log).contains("OK");
        return log;
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    private static void awaitPort(int port) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (System.nanoTime() < deadline) {
            if (!slapd.isAlive()) {
                throw new IllegalStateException("slapd exited: " + Files.readString(dir.resolve("slapd.log")));
            }
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
                return;
            } catch (IOException e) {
                Thread.sleep(100);
            }
        }
        throw new IllegalStateException("slapd does not listen on " + port + ": " + Files.readString(dir.resolve("slapd.log")));
    }

    private static void run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " failed: " + out);
        }
    }

    /** AD's bind as user@domain: maps the name to the DN of the entry with that userPrincipalName, then proxies. */
    private static final class UpnBind extends LDAPListenerRequestHandler {
        private final LDAPListenerRequestHandler next;

        UpnBind(LDAPListenerRequestHandler next) {
            this.next = next;
        }

        @Override
        public LDAPListenerRequestHandler newInstance(LDAPListenerClientConnection connection) throws LDAPException {
            return new UpnBind(next.newInstance(connection));
        }

        @Override
        public void closeInstance() {
            next.closeInstance();
        }

        @Override
        public LDAPMessage processBindRequest(int id, BindRequestProtocolOp request, List<Control> controls) {
            BindRequestProtocolOp op = request;
            String name = request.getBindDN();
            if (name.contains("@") && !name.contains("=") && request.getSimplePassword() != null) {
                try (LDAPConnection c = new LDAPConnection("127.0.0.1", ldapPort, ROOT_DN, ROOT_PW)) {
                    SearchResultEntry entry = c.searchForEntry(SUFFIX, SearchScope.SUB,
                            Filter.createEqualityFilter("userPrincipalName", name), "1.1");
                    if (entry != null) {
                        op = new BindRequestProtocolOp(entry.getDN(), request.getSimplePassword().stringValue());
                    }
                } catch (LDAPException e) {
                    throw new IllegalStateException(e);
                }
            }
            return next.processBindRequest(id, op, controls);
        }

        @Override
        public LDAPMessage processAddRequest(int id, AddRequestProtocolOp request, List<Control> controls) {
            return next.processAddRequest(id, request, controls);
        }

        @Override
        public LDAPMessage processCompareRequest(int id, CompareRequestProtocolOp request, List<Control> controls) {
            return next.processCompareRequest(id, request, controls);
        }

        @Override
        public LDAPMessage processDeleteRequest(int id, DeleteRequestProtocolOp request, List<Control> controls) {
            return next.processDeleteRequest(id, request, controls);
        }

        @Override
        public LDAPMessage processExtendedRequest(int id, ExtendedRequestProtocolOp request, List<Control> controls) {
            return next.processExtendedRequest(id, request, controls);
        }

        @Override
        public LDAPMessage processModifyRequest(int id, ModifyRequestProtocolOp request, List<Control> controls) {
            return next.processModifyRequest(id, request, controls);
        }

        @Override
        public LDAPMessage processModifyDNRequest(int id, ModifyDNRequestProtocolOp request, List<Control> controls) {
            return next.processModifyDNRequest(id, request, controls);
        }

        @Override
        public LDAPMessage processSearchRequest(int id, SearchRequestProtocolOp request, List<Control> controls) {
            return next.processSearchRequest(id, request, controls);
        }
    }
}
