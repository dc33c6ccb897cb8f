package org.corral.access;

import static java.util.Objects.requireNonNull;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.function.Function;
import org.corral.access.config.DomainsCodec;
import org.corral.access.config.DomainsConfig;
import org.corral.access.config.ProxmoxText;
import org.corral.access.config.ShadowCodec;
import org.corral.access.config.TokenSecretsCodec;
import org.corral.access.config.UserConfigCodec;
import org.corral.access.tfa.TfaConfig;
import org.corral.core.config.ConfigFile;
import org.corral.core.config.ConfigStore;
import org.corral.core.config.Digest;
import org.corral.core.config.StaleVersionException;
import org.corral.core.error.Conflict;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The access files of the config store, each parsed once per version, and compare-and-set
 * updates of them. Watches keep the parsed copies current; without watches each read checks the
 * store's version.
 */
final class AccessFiles implements AutoCloseable {
    static final String USER_CFG = "user.cfg";
    static final String DOMAINS_CFG = "domains.cfg";
    static final String SHADOW_CFG = "priv/shadow.cfg";
    static final String TOKEN_CFG = "priv/token.cfg";
    static final String TFA_CFG = "priv/tfa.cfg";
    static final String AUTH_KEY = "priv/authkey.key";
    static final String AUTH_PUB = "authkey.pub";
    static final String AUTH_PUB_OLD = "authkey.pub.old";
    static final String CSRF_KEY = "priv/pve-www.key";

    private static final Logger log = LoggerFactory.getLogger(AccessFiles.class);
    private static final int MAX_ATTEMPTS = 50;

    private final ConfigStore store;
    final CachedFile<AclEvaluator> users;
    final CachedFile<DomainsConfig> domains;
    final CachedFile<SortedMap<String, String>> shadow;
    final CachedFile<SortedMap<String, String>> tokens;
    final CachedFile<TfaConfig> tfa;
    final CachedFile<Optional<TicketVerifier.Key>> ticketKey;
    final CachedFile<Optional<TicketVerifier.Key>> previousTicketKey;
    final CachedFile<byte[]> csrfKey;
    private final Map<String, CachedFile<?>> byPath;
    private final List<AutoCloseable> watches = new ArrayList<>();

    AccessFiles(ConfigStore store, boolean watch) {
        this.store = requireNonNull(store, "store is null");
        this.users = new CachedFile<>(store, USER_CFG, text -> new AclEvaluator(UserConfigCodec.parse(text)));
        this.domains = new CachedFile<>(store, DOMAINS_CFG, DomainsCodec::parse);
        this.shadow = new CachedFile<>(store, SHADOW_CFG, ShadowCodec::parse);
        this.tokens = new CachedFile<>(store, TOKEN_CFG, TokenSecretsCodec::parse);
        this.tfa = new CachedFile<>(store, TFA_CFG, TfaConfig::parse);
        this.ticketKey = new CachedFile<>(store, AUTH_PUB, TicketKeys::parsePublic);
        this.previousTicketKey = new CachedFile<>(store, AUTH_PUB_OLD, TicketKeys::parsePublic);
        this.csrfKey = new CachedFile<>(store, CSRF_KEY, text -> text.strip().getBytes(StandardCharsets.UTF_8));
        this.byPath = Map.of(USER_CFG, users, DOMAINS_CFG, domains, SHADOW_CFG, shadow, TOKEN_CFG, tokens,
                TFA_CFG, tfa, AUTH_PUB, ticketKey, AUTH_PUB_OLD, previousTicketKey, CSRF_KEY, csrfKey);
        if (watch) {
            startWatches();
        }
    }

    private void startWatches() {
        try {
            for (String prefix : List.of(USER_CFG, DOMAINS_CFG, AUTH_PUB, AUTH_PUB_OLD, "priv")) {
                watches.add(store.watch(prefix, this::changed));
            }
            byPath.values().forEach(CachedFile::watched);
        } catch (RuntimeException e) {
            // reads then ask the store for the version each time: slower, still correct
            log.info("Config store watch unavailable ({}); access files are checked on every read", e.toString());
            closeWatches();
        }
    }

    private void changed(String path) {
        CachedFile<?> file = byPath.get(path);
        if (file != null) {
            file.changed();
        }
    }

    /**
     * Read-modify-write of one file with retries on concurrent change. {@code change} gets the
     * current snapshot and returns the new text, or the same text for no change; it may run more
     * than once and must have no side effects. Returns the snapshot that is current afterwards.
     */
    <T> CachedFile.Snapshot<T> update(CachedFile<T> file, Function<CachedFile.Snapshot<T>, String> change,
            Function<String, T> parser) {
        for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
            Optional<ConfigFile> current = store.read(file.path());
            String text = current.map(ConfigFile::text).orElse("");
            int version = current.map(ConfigFile::version).orElse(ConfigStore.NEW);
            CachedFile.Snapshot<T> before = new CachedFile.Snapshot<>(text, version, parser.apply(text));
            String next = change.apply(before);
            if (next.equals(text) && (current.isPresent() || next.isEmpty())) {
                return before;
            }
            try {
                int written = store.write(file.path(), next, version);
                file.written(next, written);
                return new CachedFile.Snapshot<>(next, written, parser.apply(next));
            } catch (StaleVersionException e) {
                log.debug("Concurrent change of {}, retrying", file.path());
            }
        }
        throw new Conflict(Digest.MODIFIED);
    }

    /** The key file's content, created with 32 random bytes if it does not exist yet. */
    byte[] key(CachedFile<byte[]> file) {
        CachedFile.Snapshot<byte[]> current = file.snapshot();
        if (current.exists() && current.value().length > 0) {
            return current.value();
        }
        try {
            String text = randomKey();
            int version = store.write(file.path(), text, ConfigStore.NEW);
            log.info("Created {}", file.path());
            file.written(text, version);
            return file.get();
        } catch (StaleVersionException e) {
            // another node created it first
            file.changed();
            return file.get();
        }
    }

    static String randomKey() {
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        return Base64.getEncoder().encodeToString(key) + "\n";
    }

    static SortedMap<String, String> mutableCopy(Map<String, String> map) {
        TreeMap<String, String> copy = new TreeMap<>(ProxmoxText.BYTE_ORDER);
        copy.putAll(map);
        return copy;
    }

    ConfigStore store() {
        return store;
    }

    private void closeWatches() {
        for (AutoCloseable watch : watches) {
            try {
                watch.close();
            } catch (Exception e) {
                log.debug("Closing a config watch failed", e);
            }
        }
        watches.clear();
    }

    @Override
    public void close() {
        closeWatches();
    }
}
