package org.corral.access.realm;

import static java.util.Objects.requireNonNull;

import com.unboundid.ldap.sdk.DN;
import com.unboundid.ldap.sdk.Filter;
import com.unboundid.ldap.sdk.LDAPConnection;
import com.unboundid.ldap.sdk.LDAPConnectionOptions;
import com.unboundid.ldap.sdk.LDAPException;
import com.unboundid.ldap.sdk.ResultCode;
import com.unboundid.ldap.sdk.SearchResult;
import com.unboundid.ldap.sdk.SearchResultEntry;
import com.unboundid.ldap.sdk.SearchScope;
import com.unboundid.ldap.sdk.extensions.StartTLSExtendedRequest;
import com.unboundid.util.ssl.HostNameSSLSocketVerifier;
import com.unboundid.util.ssl.JVMDefaultTrustManager;
import com.unboundid.util.ssl.PEMFileKeyManager;
import com.unboundid.util.ssl.PEMFileTrustManager;
import com.unboundid.util.ssl.SSLUtil;
import com.unboundid.util.ssl.TrustAllTrustManager;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;
import org.corral.access.AuthenticationException;
import org.corral.access.Realm;
import org.corral.access.config.ProxmoxText;
import org.corral.access.config.RealmConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code ldap} and {@code ad} realms: a login binds to the directory as the user. An LDAP
 * realm finds the user's DN under {@code base_dn} by {@code user_attr} (bound with {@code bind_dn}
 * and the password in priv/ldap/REALM.pw, or anonymously) and binds with it; an AD realm binds as
 * {@code user@domain}. {@code mode} picks plain LDAP, LDAPS or StartTLS; with {@code verify} the
 * server's certificate is checked against the JVM's trust store or the PEM files of {@code capath}.
 */
public final class LdapRealm implements Realm {
    /** Options of both types besides comment, as Proxmox's LDAP and AD plugins declare them. */
    private static final Set<String> COMMON = Set.of("server1", "server2", "port", "base_dn", "bind_dn", "user_attr", "mode",
            "secure", "sslversion", "verify", "capath", "cert", "certkey", "filter", "group_dn", "group_filter",
            "group_name_attr", "group_classes", "user_classes", "sync-defaults-options", "sync_attributes", "case-sensitive",
            "default", "tfa");
    private static final int TIMEOUT_MILLIS = 10_000;
    private static final Logger log = LoggerFactory.getLogger(LdapRealm.class);

    private final String type;
    private final Function<String, Optional<String>> bindPasswords;

    /** {@code type} is "ldap" or "ad"; {@code bindPasswords} gives a realm's stored bind password. */
    public LdapRealm(String type, Function<String, Optional<String>> bindPasswords) {
        if (!type.equals("ldap") && !type.equals("ad")) {
            throw new IllegalArgumentException("not an LDAP realm type: " + type);
        }
        this.type = type;
        this.bindPasswords = requireNonNull(bindPasswords, "bindPasswords is null");
    }

    @Override
    public String type() {
        return type;
    }

    @Override
    public Set<String> options() {
        if (type.equals("ad")) {
            return Stream.concat(COMMON.stream(), Stream.of("domain")).collect(Collectors.toUnmodifiableSet());
        }
        return COMMON;
    }

    @Override
    public boolean keepsBindPassword() {
        return true;
    }

    @Override
    public List<String> requiredOptions() {
        return type.equals("ad") ? List.of("server1", "domain") : List.of("server1", "base_dn", "user_attr");
    }

    @Override
    public void authenticate(RealmConfig realm, String username, String password, String clientAddress) {
        if (password.isEmpty()) {
            throw new AuthenticationException("no password");
        }
        try (LDAPConnection connection = connect(realm)) {
            String bindName;
            if (type.equals("ad")) {
                String domain = realm.option("domain").orElseThrow(() -> new AuthenticationException("realm has no domain"));
                bindName = username.contains("@") ? username : username + "@" + domain;
            } else {
                bindName = userDn(connection, realm, username);
            }
            connection.bind(bindName, password);
        } catch (LDAPException e) {
            if (e.getResultCode() == ResultCode.INVALID_CREDENTIALS) {
                throw new AuthenticationException("invalid credentials for '" + username + "'");
            }
            log.info("LDAP login of {} in realm {} failed: {}", username, realm.realm(), e.getMessage());
            throw new AuthenticationException("LDAP error: " + e.getResultCode());
        }
    }

    /** The DN of {@code username}: one entry under base_dn with user_attr equal to it (and matching filter). */
    private String userDn(LDAPConnection connection, RealmConfig realm, String username) throws LDAPException {
        bindService(connection, realm);
        String attr = realm.option("user_attr").orElse("uid");
        Filter filter = Filter.createEqualityFilter(attr, username);
        Optional<String> extra = realm.option("filter").filter(f -> !f.isBlank());
        if (extra.isPresent()) {
            filter = Filter.createANDFilter(filter, Filter.create(extra.get()));
        }
        SearchResult result = connection.search(realm.option("base_dn").orElse(""), SearchScope.SUB, filter, "1.1");
        List<SearchResultEntry> entries = result.getSearchEntries();
        if (entries.size() != 1) {
            throw new AuthenticationException(entries.isEmpty() ? "user '" + username + "' not found in the directory"
                    : "user '" + username + "' is ambiguous in the directory");
        }
        return entries.get(0).getDN();
    }

    /** Binds with bind_dn and the stored password when the realm has them; stays anonymous otherwise. */
    void bindService(LDAPConnection connection, RealmConfig realm) throws LDAPException {
        bindService(connection, realm, bindPasswords.apply(realm.realm()));
    }

    private static void bindService(LDAPConnection connection, RealmConfig realm, Optional<String> password) throws LDAPException {
        Optional<String> bindDn = realm.option("bind_dn").filter(d -> !d.isBlank());
        if (bindDn.isPresent()) {
            connection.bind(bindDn.get(), password.orElse(""));
        }
    }

    /**
     * Proxmox's {@code check-connection}: connects to the realm's servers and binds with bind_dn
     * and {@code password} (anonymous without bind_dn). Throws the LDAP error when that fails.
     */
    public void checkConnection(RealmConfig realm, Optional<String> password) throws LDAPException {
        try (LDAPConnection connection = connect(realm)) {
            bindService(connection, realm, password);
        }
    }

    /** A connection to server1, or to server2 when server1 can't be reached, with the realm's TLS mode. */
    public LDAPConnection connect(RealmConfig realm) throws LDAPException {
        String mode = mode(realm);
        int port;
        try {
            port = realm.option("port").map(Integer::parseInt).orElse(mode.equals("ldaps") ? 636 : 389);
        } catch (NumberFormatException e) {
            throw new LDAPException(ResultCode.PARAM_ERROR, "invalid port of realm '" + realm.realm() + "'");
        }
        List<String> servers = new ArrayList<>();
        realm.option("server1").filter(s -> !s.isBlank()).ifPresent(servers::add);
        realm.option("server2").filter(s -> !s.isBlank()).ifPresent(servers::add);
        if (servers.isEmpty()) {
            throw new LDAPException(ResultCode.PARAM_ERROR, "realm '" + realm.realm() + "' has no server1");
        }
        boolean verify = ProxmoxText.truthy(realm.option("verify").orElse("0"));
        LDAPConnectionOptions options = new LDAPConnectionOptions();
        options.setConnectTimeoutMillis(TIMEOUT_MILLIS);
        options.setResponseTimeoutMillis(TIMEOUT_MILLIS);
        if (verify) {
            options.setSSLSocketVerifier(new HostNameSSLSocketVerifier(true));
        }
        LDAPException last = null;
        for (String server : servers) {
            try {
                return open(server, port, mode, verify, realm, options);
            } catch (LDAPException e) {
                log.info("LDAP server {}:{} of realm {}: {}", server, port, realm.realm(), e.getMessage());
                last = e;
            }
        }
        throw last;
    }

    private static LDAPConnection open(String server, int port, String mode, boolean verify, RealmConfig realm,
            LDAPConnectionOptions options) throws LDAPException {
        if (mode.equals("ldap")) {
            return new LDAPConnection(options, server, port);
        }
        SSLUtil ssl = new SSLUtil(keyManager(realm), trustManager(verify, realm));
        try {
            Optional<String> version = realm.option("sslversion").filter(v -> !v.isBlank());
            SSLSocketFactory factory;
            if (version.isEmpty()) {
                factory = ssl.createSSLSocketFactory();
            } else {
                try {
                    // the context's own factory: the SDK's would set its default protocols again on connect
                    factory = new ProtocolSocketFactory(ssl.createSSLContext().getSocketFactory(),
                            ProtocolSocketFactory.protocol(version.get()));
                } catch (IllegalArgumentException e) {
                    throw new LDAPException(ResultCode.PARAM_ERROR, e.getMessage());
                }
            }
            if (mode.equals("ldaps")) {
                return new LDAPConnection(factory, options, server, port);
            }
            LDAPConnection connection = new LDAPConnection(options, server, port);
            try {
                var result = connection.processExtendedOperation(new StartTLSExtendedRequest(factory));
                if (result.getResultCode() != ResultCode.SUCCESS) {
                    throw new LDAPException(result.getResultCode(), "StartTLS failed: " + result.getDiagnosticMessage());
                }
                return connection;
            } catch (LDAPException e) {
                connection.close();
                throw e;
            }
        } catch (GeneralSecurityException e) {
            throw new LDAPException(ResultCode.CONNECT_ERROR, "TLS setup failed: " + e.getMessage(), e);
        }
    }

    /** The client certificate of cert and certkey (PEM files), none without them. */
    private static KeyManager keyManager(RealmConfig realm) throws LDAPException {
        Optional<String> cert = realm.option("cert").filter(p -> !p.isBlank());
        Optional<String> key = realm.option("certkey").filter(p -> !p.isBlank());
        if (cert.isEmpty() && key.isEmpty()) {
            return null;
        }
        if (cert.isEmpty() || key.isEmpty()) {
            throw new LDAPException(ResultCode.PARAM_ERROR, "a client certificate needs both cert and certkey");
        }
        try {
            return new PEMFileKeyManager(new File(cert.get()), new File(key.get()));
        } catch (GeneralSecurityException e) {
            throw new LDAPException(ResultCode.PARAM_ERROR, "can't read the client certificate: " + e.getMessage());
        }
    }

    /** Trusts everything without verify; with it the PEM files of capath (a file or directory), or the JVM's store. */
    private static TrustManager trustManager(boolean verify, RealmConfig realm) throws LDAPException {
        if (!verify) {
            return new TrustAllTrustManager();
        }
        Optional<String> capath = realm.option("capath").filter(p -> !p.isBlank());
        if (capath.isEmpty()) {
            return JVMDefaultTrustManager.getInstance();
        }
        Path path = Path.of(capath.get());
        List<File> files = new ArrayList<>();
        try {
            if (Files.isDirectory(path)) {
                try (Stream<Path> list = Files.list(path)) {
                    list.filter(p -> p.toString().endsWith(".pem") || p.toString().endsWith(".crt"))
                            .filter(Files::isRegularFile).sorted().forEach(p -> files.add(p.toFile()));
                }
            } else {
                files.add(path.toFile());
            }
            if (files.isEmpty()) {
                throw new LDAPException(ResultCode.PARAM_ERROR, "no certificates in capath " + path);
            }
            return new PEMFileTrustManager(files);
        } catch (java.io.IOException | GeneralSecurityException e) {
            throw new LDAPException(ResultCode.PARAM_ERROR, "can't read capath " + path + ": " + e.getMessage());
        }
    }

    static String mode(RealmConfig realm) {
        Optional<String> mode = realm.option("mode");
        if (mode.isPresent()) {
            return mode.get();
        }
        return ProxmoxText.truthy(realm.option("secure").orElse("0")) ? "ldaps" : "ldap";
    }

    /** The first value of a DN's first RDN, e.g. "admins" for cn=admins,ou=groups,dc=example. */
    static String firstRdnValue(String dn) throws LDAPException {
        var rdn = new DN(dn).getRDN();
        return rdn == null ? dn : rdn.getAttributeValues()[0];
    }
}
