package org.corral.access;

import static java.util.Objects.requireNonNull;

import java.time.Clock;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.corral.access.config.AclEntry;
import org.corral.access.config.ApiToken;
import org.corral.access.config.DomainsCodec;
import org.corral.access.config.DomainsConfig;
import org.corral.access.config.ProxmoxText;
import org.corral.access.config.Pool;
import org.corral.access.config.RealmConfig;
import org.corral.access.config.ShadowCodec;
import org.corral.access.config.TokenSecretsCodec;
import org.corral.access.config.User;
import org.corral.access.config.UserConfig;
import org.corral.access.config.UserConfigCodec;
import org.corral.access.realm.LdapRealm;
import org.corral.access.realm.OpenIdRealm;
import org.corral.access.realm.PamRealm;
import org.corral.access.realm.PveRealm;
import org.corral.core.access.AuthContext;
import org.corral.core.access.PermissionView;
import org.corral.core.access.Privilege;
import org.corral.core.config.Digest;
import org.corral.core.config.ConfigFile;
import org.corral.core.error.ParameterError;
import org.corral.core.task.TaskManager;

/**
 * What the access API methods work with: the current user.cfg and domains.cfg, compare-and-set
 * updates of them, password and token secret storage, realms, ticket and CSRF token checks and the
 * permission evaluation with account state (disabled users, expired users and tokens have nothing).
 */
public final class AccessService {
    private static final Pattern TOP_LEVEL = Pattern.compile("^/(\\w+)");
    private static final Map<String, Pattern> CAPABILITY_GROUPS = capabilityGroups();
    private static final List<String> CAPABILITY_PATHS = List.of("/", "/nodes", "/access/groups", "/vms", "/storage", "/sdn", "/mapping");
    private static final List<String> EFFECTIVE_PATHS = List.of("/", "/access", "/access/groups", "/nodes", "/pool", "/sdn", "/storage", "/vms");

    private final AccessFiles files;
    private final Clock clock;
    private final AccessSettings settings;
    private final Realms realms;
    private final TicketVerifier ticketVerifier;
    private final CsrfTokens csrfTokens;
    private final TokenSecrets tokenSecrets;
    private final LoginThrottle throttle;
    private final PasswordStore passwords;
    private final TwoFactor twoFactor;
    private final Optional<TaskManager> tasks;

    AccessService(AccessFiles files, Clock clock, AccessSettings settings, PasswordHasher hasher, Optional<TaskManager> tasks) {
        this.files = requireNonNull(files, "files is null");
        this.clock = requireNonNull(clock, "clock is null");
        this.settings = requireNonNull(settings, "settings is null");
        this.passwords = new ShadowPasswords();
        this.realms = new Realms(List.of(new PveRealm(passwords, hasher),
                new PamRealm(settings.pamService()), new LdapRealm("ldap", this::bindPassword),
                new LdapRealm("ad", this::bindPassword), new OpenIdRealm()));
        this.tasks = requireNonNull(tasks, "tasks is null");
        this.ticketVerifier = new TicketVerifier(() -> new TicketVerifier.Keys(files.ticketKey.get(), files.previousTicketKey.get()),
                clock, settings.ticketLifetime(), TicketVerifier.DEFAULT_CACHE_SIZE);
        this.csrfTokens = new CsrfTokens(() -> files.key(files.csrfKey), clock, settings.ticketLifetime());
        this.tokenSecrets = new TokenSecrets(files.tokens::snapshot);
        this.throttle = new LoginThrottle(settings.throttle(), clock);
        this.twoFactor = new TwoFactor(files, clock);
    }

    private static Map<String, Pattern> capabilityGroups() {
        Map<String, Pattern> groups = new LinkedHashMap<>();
        groups.put("vms", Pattern.compile("^(VM\\.|Permissions\\.Modify)"));
        groups.put("storage", Pattern.compile("^(Datastore\\.|Permissions\\.Modify)"));
        groups.put("access", Pattern.compile("^((User|Group)\\.|Permissions\\.Modify)"));
        groups.put("nodes", Pattern.compile("^(Sys\\.|Permissions\\.Modify)"));
        groups.put("dc", Pattern.compile("^(Sys\\.Audit|Sys\\.Modify|SDN\\.)"));
        groups.put("sdn", Pattern.compile("^(SDN\\.|Permissions\\.Modify)"));
        groups.put("mapping", Pattern.compile("^(Mapping\\.|Permissions\\.Modify)"));
        return Map.copyOf(groups);
    }

    public Clock clock() {
        return clock;
    }

    public AccessSettings settings() {
        return settings;
    }

    public Realms realms() {
        return realms;
    }

    /** Checks tickets; signing them is the login's alone ({@link TicketIssuer}). */
    public TicketVerifier ticketVerifier() {
        return ticketVerifier;
    }

    public CsrfTokens csrfTokens() {
        return csrfTokens;
    }

    public TokenSecrets tokenSecrets() {
        return tokenSecrets;
    }

    public LoginThrottle throttle() {
        return throttle;
    }

    /** Second factors: priv/tfa.cfg, login challenges and their responses. */
    public TwoFactor twoFactor() {
        return twoFactor;
    }

    /** The node's worker tasks, where the node runs them (realm syncs run as tasks). */
    public Optional<TaskManager> tasks() {
        return tasks;
    }

    /** Where an LDAP or AD realm's bind password is kept. */
    static String bindPasswordPath(String realm) {
        return "priv/ldap/" + realm + ".pw";
    }

    /** The stored bind password of an LDAP or AD realm. */
    public Optional<String> bindPassword(String realm) {
        return readSecret(bindPasswordPath(realm));
    }

    /** Stores (or with an empty value, removes) an LDAP or AD realm's bind password; answers the previous one. */
    public Optional<String> setBindPassword(String realm, Optional<String> password) {
        return writeSecret(bindPasswordPath(realm), password);
    }

    /** Where an OpenID realm's client key is kept (Proxmox keeps it in domains.cfg, readable by more than root). */
    static String clientKeyPath(String realm) {
        return "priv/openid/" + realm + ".key";
    }

    /** The stored client key of an OpenID realm. */
    public Optional<String> clientKey(String realm) {
        return readSecret(clientKeyPath(realm));
    }

    /** Stores (or with an empty value, removes) an OpenID realm's client key; answers the previous one. */
    public Optional<String> setClientKey(String realm, Optional<String> key) {
        return writeSecret(clientKeyPath(realm), key);
    }

    private Optional<String> readSecret(String path) {
        return files.store().read(path).map(ConfigFile::text).map(t -> t.endsWith("\n") ? t.substring(0, t.length() - 1) : t);
    }

    private Optional<String> writeSecret(String path, Optional<String> value) {
        Optional<String> old = readSecret(path);
        if (value.isPresent()) {
            files.store().overwrite(path, value.get() + "\n");
        } else {
            files.store().read(path).ifPresent(file -> files.store().delete(path, file.version()));
        }
        return old;
    }

    public PasswordStore passwords() {
        return passwords;
    }

    long nowSeconds() {
        return clock.instant().getEpochSecond();
    }

    /** The current user.cfg with its permission evaluation. */
    public AclEvaluator evaluator() {
        return files.users.get();
    }

    public UserConfig users() {
        return evaluator().config();
    }

    /** The digest of the current user.cfg, for the {@code digest} parameter of writes. */
    public String usersDigest() {
        return files.users.snapshot().digest();
    }

    public DomainsConfig domains() {
        return files.domains.get();
    }

    public String domainsDigest() {
        return files.domains.snapshot().digest();
    }

    /**
     * Changes user.cfg with a compare-and-set write, retried on concurrent change. A {@code digest}
     * that is not the current file's refuses the change (409); so does any exception of
     * {@code change}, which may run more than once. Returns the config as written.
     */
    public UserConfig updateUsers(Optional<String> digest, UnaryOperator<UserConfig> change) {
        return files.update(files.users, before -> {
            Digest.check(digest, before.digest());
            UserConfig current = before.value().config();
            UserConfig next = change.apply(current);
            return next.equals(current) ? before.text() : UserConfigCodec.write(next);
        }, text -> new AclEvaluator(UserConfigCodec.parse(text))).value().config();
    }

    /** Changes domains.cfg like {@link #updateUsers}. */
    public DomainsConfig updateDomains(Optional<String> digest, UnaryOperator<DomainsConfig> change) {
        return files.update(files.domains, before -> {
            Digest.check(digest, before.digest());
            DomainsConfig next = change.apply(before.value());
            return next.equals(before.value()) ? before.text() : DomainsCodec.write(next);
        }, DomainsCodec::parse).value();
    }

    /** Stores the hash of a new token secret. */
    public void putTokenSecret(String tokenid, String secret) {
        String stored = TokenSecrets.storedValue(secret);
        updateTokenFile(values -> values.put(tokenid, stored));
        tokenSecrets.forget(tokenid);
    }

    /** Removes a token's secret; returns what was stored, for an undo. */
    public Optional<String> removeTokenSecret(String tokenid) {
        AtomicReference<String> old = new AtomicReference<>();
        updateTokenFile(values -> old.set(values.remove(tokenid)));
        tokenSecrets.forget(tokenid);
        return Optional.ofNullable(old.get());
    }

    /** Puts back a stored value removed by {@link #removeTokenSecret}. */
    public void restoreTokenSecret(String tokenid, String stored) {
        updateTokenFile(values -> values.put(tokenid, stored));
        tokenSecrets.forget(tokenid);
    }

    /** Removes the secrets of every token of a user. */
    public void removeTokenSecrets(String userid) {
        updateTokenFile(values -> values.keySet().removeIf(id -> id.startsWith(userid + "!")));
        tokenSecrets.forgetUser(userid);
    }

    private void updateTokenFile(Consumer<SortedMap<String, String>> change) {
        files.update(files.tokens, before -> {
            SortedMap<String, String> values = AccessFiles.mutableCopy(before.value());
            change.accept(values);
            return values.equals(before.value()) ? before.text() : TokenSecretsCodec.write(values);
        }, TokenSecretsCodec::parse);
    }

    /** Whether the user, and the token if one is given, may be used now. */
    public boolean active(UserConfig config, String userid, Optional<String> tokenName) {
        long now = nowSeconds();
        Optional<User> user = config.user(userid);
        if (user.isEmpty() || !user.get().activeAt(now)) {
            return false;
        }
        if (tokenName.isPresent()) {
            ApiToken token = user.get().tokens().get(tokenName.get());
            return token != null && !token.expiredAt(now);
        }
        return true;
    }

    /** The privileges of a user or full token id on a path, nothing when the account can't be used. */
    public AclEvaluator.Privileges privileges(String authid, String path) {
        AclEvaluator evaluator = evaluator();
        Optional<Ids.TokenId> token = authid.indexOf('!') >= 0 ? Ids.token(authid) : Optional.empty();
        String userid = token.map(Ids.TokenId::userid).orElse(authid);
        if (!active(evaluator.config(), userid, token.map(Ids.TokenId::name))) {
            return AclEvaluator.Privileges.NONE;
        }
        return evaluator.privileges(authid, path);
    }

    public Set<Privilege> privileges(AuthContext auth, String path) {
        if (auth.isAnonymous()) {
            return Set.of();
        }
        String authid = authid(auth);
        // a token acts for its own user only
        // a prefix check, not a parse: this runs for every path of every request
        if (auth.tokenid().isPresent() && (!authid.startsWith(auth.userid() + "!")
                || authid.indexOf('!', auth.userid().length() + 1) >= 0)) {
            return Set.of();
        }
        return privileges(authid, path).set();
    }

    /**
     * The caller's privileges as one object (see {@link AclEvaluator#view}); nothing for an anonymous
     * caller, a token used for another user, or an account that can't be used now. The same object
     * is given again until user.cfg changes.
     */
    public PermissionView view(AuthContext auth) {
        if (auth.isAnonymous()) {
            return NO_PRIVILEGES;
        }
        String authid = authid(auth);
        if (auth.tokenid().isPresent() && (!authid.startsWith(auth.userid() + "!")
                || authid.indexOf('!', auth.userid().length() + 1) >= 0)) {
            return NO_PRIVILEGES;
        }
        AclEvaluator evaluator = evaluator();
        Optional<Ids.TokenId> token = authid.indexOf('!') >= 0 ? Ids.token(authid) : Optional.empty();
        String userid = token.map(Ids.TokenId::userid).orElse(authid);
        if (!active(evaluator.config(), userid, token.map(Ids.TokenId::name))) {
            return NO_PRIVILEGES;
        }
        return evaluator.view(authid);
    }

    private static final PermissionView NO_PRIVILEGES = new PermissionView() {
        @Override
        public Set<Privilege> privileges(String path) {
            return Set.of();
        }

        @Override
        public Set<Privilege> guest(int vmid) {
            return Set.of();
        }
    };

    public boolean has(AuthContext auth, String path, Privilege... wanted) {
        Set<Privilege> held = privileges(auth, path);
        for (Privilege privilege : wanted) {
            if (!held.contains(privilege)) {
                return false;
            }
        }
        return true;
    }

    public boolean hasAny(AuthContext auth, String path, Collection<Privilege> wanted) {
        Set<Privilege> held = privileges(auth, path);
        return wanted.stream().anyMatch(held::contains);
    }

    /** The id ACLs are evaluated for: the full token id for token calls, else the user. */
    public static String authid(AuthContext auth) {
        Optional<String> token = auth.tokenid();
        if (token.isEmpty()) {
            return auth.userid();
        }
        return token.get().indexOf('!') >= 0 ? token.get() : auth.userid() + "!" + token.get();
    }

    /** The GUI's capability map (Proxmox's {@code compute_api_permission}): privilege groups with 1 for each privilege held. */
    public Map<String, Map<String, Integer>> capabilities(String authid) {
        Map<String, Map<String, Integer>> result = new LinkedHashMap<>();
        CAPABILITY_GROUPS.keySet().stream().sorted().forEach(group -> result.put(group, new TreeMap<>()));
        LinkedHashSet<String> paths = new LinkedHashSet<>(CAPABILITY_PATHS);
        paths.addAll(evaluator().aclTreePaths());
        for (String path : paths) {
            Set<Privilege> held = privileges(authid, path).set();
            Matcher top = TOP_LEVEL.matcher(path);
            String group = top.find() ? top.group(1) : "dc";
            if (group.equals("pool")) {
                for (Privilege privilege : held) {
                    String name = privilege.proxmoxName();
                    if (name.startsWith("VM.")) {
                        result.get("vms").put(name, 1);
                    } else if (name.startsWith("Datastore.")) {
                        result.get("storage").put(name, 1);
                    } else if (privilege == Privilege.PERMISSIONS_MODIFY) {
                        result.get("storage").put(name, 1);
                        result.get("vms").put(name, 1);
                    }
                }
                continue;
            }
            Pattern wanted = CAPABILITY_GROUPS.get(group);
            if (wanted == null) {
                continue;
            }
            for (Privilege privilege : held) {
                if (wanted.matcher(privilege.proxmoxName()).find()) {
                    result.get(group).put(privilege.proxmoxName(), 1);
                }
            }
        }
        return result;
    }

    /** Proxmox's {@code get_effective_permissions}: path to privilege to propagate flag, paths without privileges left out. */
    public Map<String, Map<String, Integer>> effectivePermissions(String authid) {
        AclEvaluator evaluator = evaluator();
        TreeSet<String> paths = new TreeSet<>(AclEntry::comparePaths);
        paths.addAll(EFFECTIVE_PATHS);
        paths.addAll(evaluator.aclTreePaths());
        for (Pool pool : evaluator.config().pools().values()) {
            pool.vms().forEach(vmid -> paths.add("/vms/" + vmid));
            pool.storage().forEach(storage -> paths.add("/storage/" + storage));
        }
        Map<String, Map<String, Integer>> result = new LinkedHashMap<>();
        for (String path : paths) {
            Map<String, Integer> flags = flags(privileges(authid, path));
            if (!flags.isEmpty()) {
                result.put(path, flags);
            }
        }
        return result;
    }

    /** Privilege name to propagate flag (1/0), sorted by name. */
    public static Map<String, Integer> flags(AclEvaluator.Privileges privileges) {
        Map<String, Integer> flags = new TreeMap<>();
        privileges.flags().forEach((privilege, propagate) -> flags.put(privilege.proxmoxName(), propagate ? 1 : 0));
        return flags;
    }

    /**
     * Proxmox's {@code lookup_username}: in a realm with {@code case-sensitive 0} the user of
     * user.cfg whose id matches ignoring case (refused when several do); else {@code userid} as given.
     */
    public String lookupUsername(String userid) {
        Optional<Ids.UserId> id = Ids.user(userid);
        if (id.isEmpty() || domains().realm(id.get().realm()).flatMap(r -> r.option("case-sensitive"))
                .map(ProxmoxText::truthy).orElse(true)) {
            return userid;
        }
        List<String> matches = users().users().keySet().stream().filter(u -> u.equalsIgnoreCase(userid)).toList();
        if (matches.size() > 1) {
            throw new AuthenticationException("ambiguous case insensitive match of username '" + userid
                    + "', cannot safely grant access!");
        }
        return matches.isEmpty() ? userid : matches.get(0);
    }

    /** The realm's config and its implementation; refuses unknown realms and unsupported types. */
    public RealmConfig realmConfig(String realm) {
        return domains().realm(realm).orElseThrow(() -> new ParameterError("realm", "auth domain '" + realm + "' does not exist"));
    }

    public Optional<Realm> realmOf(RealmConfig config) {
        return realms.get(config.type());
    }

    /** priv/shadow.cfg as the pve realm's password store. */
    private final class ShadowPasswords implements PasswordStore {
        @Override
        public Optional<String> hash(String username) {
            return Optional.ofNullable(files.shadow.get().get(username));
        }

        @Override
        public void setHash(String username, String hash) {
            update(values -> values.put(username, hash));
        }

        @Override
        public Optional<String> remove(String username) {
            AtomicReference<String> old = new AtomicReference<>();
            update(values -> old.set(values.remove(username)));
            return Optional.ofNullable(old.get());
        }

        private void update(Consumer<SortedMap<String, String>> change) {
            files.update(files.shadow, before -> {
                SortedMap<String, String> values = AccessFiles.mutableCopy(before.value());
                change.accept(values);
                return values.equals(before.value()) ? before.text() : ShadowCodec.write(values);
            }, ShadowCodec::parse);
        }
    }
}
