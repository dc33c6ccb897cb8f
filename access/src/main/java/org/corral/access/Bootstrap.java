package org.corral.access;

import java.security.SecureRandom;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.corral.access.config.AclEntry;
import org.corral.access.config.DomainsCodec;
import org.corral.access.config.DomainsConfig;
import org.corral.access.config.ShadowCodec;
import org.corral.access.config.User;
import org.corral.access.config.UserConfig;
import org.corral.access.config.UserConfigCodec;
import org.corral.core.access.AuthContext;
import org.corral.core.config.ConfigFile;
import org.corral.core.config.ConfigStore;
import org.corral.core.config.StaleVersionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The access files of a new cluster; see {@link AccessControl#initialize}. */
final class Bootstrap {
    static final String ADMIN = "admin@pve";
    private static final Logger log = LoggerFactory.getLogger(Bootstrap.class);
    // no 0/O, 1/l/I: the password is read off a terminal
    private static final String ALPHABET = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    private static final int GENERATED_LENGTH = 20;

    private Bootstrap() {}

    @SuppressWarnings("try")
    static Optional<String> initialize(ConfigStore store, Optional<String> adminPassword, PasswordHasher hasher) {
        adminPassword.ifPresent(p -> {
            if (p.length() < 8) {
                throw new IllegalArgumentException("the admin password must have at least 8 characters");
            }
        });
        if (store.read(AccessFiles.USER_CFG).isPresent()) {
            return Optional.empty();
        }
        // nodes starting together must not both set a password
        try (ConfigStore.Lock lock = store.lock("access-init", Duration.ofSeconds(60))) {
            if (store.read(AccessFiles.USER_CFG).isPresent()) {
                return Optional.empty();
            }
            createIfMissing(store, AccessFiles.CSRF_KEY, AccessFiles.randomKey());
            createIfMissing(store, AccessFiles.DOMAINS_CFG, DomainsCodec.write(DomainsConfig.defaults()));
            String password = adminPassword.orElseGet(Bootstrap::generate);
            Optional<ConfigFile> shadow = store.read(AccessFiles.SHADOW_CFG);
            Map<String, String> hashes = new TreeMap<>();
            shadow.ifPresent(f -> hashes.putAll(ShadowCodec.parse(f.text())));
            hashes.put(Ids.user(ADMIN).orElseThrow().name(), hasher.hash(password));
            store.write(AccessFiles.SHADOW_CFG, ShadowCodec.write(hashes), shadow.map(ConfigFile::version).orElse(ConfigStore.NEW));
            UserConfig users = UserConfig.empty()
                    .withUser(User.of(AuthContext.ROOT))
                    .withUser(User.of(ADMIN))
                    .withAcl(List.of(new AclEntry("/", AclEntry.Kind.USER, ADMIN, "Administrator", true)));
            store.write(AccessFiles.USER_CFG, UserConfigCodec.write(users), ConfigStore.NEW);
            log.info("Initialized access control with users {} and {}", AuthContext.ROOT, ADMIN);
            // only a password the caller does not know yet is handed back, to be shown once
            return adminPassword.isPresent() ? Optional.empty() : Optional.of(password);
        }
    }

    private static void createIfMissing(ConfigStore store, String path, String text) {
        if (store.read(path).isPresent()) {
            return;
        }
        try {
            store.write(path, text, ConfigStore.NEW);
        } catch (StaleVersionException e) {
            // created meanwhile by someone else: theirs is as good
        }
    }

    static String generate() {
        SecureRandom random = new SecureRandom();
        StringBuilder password = new StringBuilder(GENERATED_LENGTH);
        for (int i = 0; i < GENERATED_LENGTH; i++) {
            password.append(ALPHABET.charAt(random.nextInt(ALPHABET.length())));
        }
        return password.toString();
    }
}
