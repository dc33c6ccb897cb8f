package org.corral.cluster;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import org.corral.core.config.ConfigFile;
import org.corral.core.config.ConfigStore;
import org.corral.core.config.ConfigWriter;
import org.corral.core.config.StaleVersionException;

/**
 * One-time join tokens (a Corral extension to Proxmox's root-password join): random, kept in the
 * store only as SHA-256 hashes with their expiry ({@code priv/join-tokens.cfg}, one
 * {@code HASH EXPIRY-EPOCH} line each), valid for {@link #LIFETIME} and for one join.
 */
public final class JoinTokens {
    public static final String PATH = "priv/join-tokens.cfg";
    public static final Duration LIFETIME = Duration.ofHours(1);
    public static final String PREFIX = "corral-join-";
    private static final int ATTEMPTS = 50;

    private final ConfigStore store;
    private final Clock clock;
    private final SecureRandom random = new SecureRandom();

    public JoinTokens(ConfigStore store, Clock clock) {
        this.store = requireNonNull(store, "store is null");
        this.clock = requireNonNull(clock, "clock is null");
    }

    public record Issued(String token, Instant expires) {}

    /** Makes a new token; the plain value exists only in the answer. */
    public Issued create() {
        byte[] bytes = new byte[24];
        random.nextBytes(bytes);
        String token = PREFIX + HexFormat.of().formatHex(bytes);
        Instant expires = clock.instant().plus(LIFETIME);
        change(entries -> entries.add(new Entry(hash(token), expires.getEpochSecond())));
        return new Issued(token, expires);
    }

    /** Whether {@code token} looks like a join token rather than a password. */
    public static boolean isToken(String value) {
        return value.startsWith(PREFIX);
    }

    /** Whether {@code token} is known and unexpired, without using it up. */
    public boolean valid(String token) {
        long now = clock.instant().getEpochSecond();
        String hash = hash(token);
        return read().stream().anyMatch(e -> e.hash.equals(hash) && e.expires > now);
    }

    /** Uses the token up: true once for a valid token, false when unknown, used or expired. */
    public boolean consume(String token) {
        String hash = hash(token);
        long now = clock.instant().getEpochSecond();
        boolean[] found = new boolean[1];
        change(entries -> {
            found[0] = entries.stream().anyMatch(e -> e.hash.equals(hash) && e.expires > now);
            entries.removeIf(e -> e.hash.equals(hash));
        });
        return found[0];
    }

    private record Entry(String hash, long expires) {}

    private interface Change {
        void apply(List<Entry> entries);
    }

    private List<Entry> read() {
        return store.read(PATH).map(f -> parse(f.text())).orElse(List.of());
    }

    private void change(Change change) {
        for (int attempt = 0; ; attempt++) {
            Optional<ConfigFile> current = store.read(PATH);
            List<Entry> entries = new ArrayList<>(current.map(f -> parse(f.text())).orElse(List.of()));
            long now = clock.instant().getEpochSecond();
            // expired tokens go on every change
            entries.removeIf(e -> e.expires <= now);
            change.apply(entries);
            ConfigWriter out = new ConfigWriter();
            for (Entry e : entries) {
                out.fields(' ', false, ConfigWriter.field("hash", e.hash), ConfigWriter.field("expires", Long.toString(e.expires)));
            }
            try {
                store.write(PATH, out.text(), current.map(ConfigFile::version).orElse(ConfigStore.NEW));
                return;
            } catch (StaleVersionException e) {
                if (attempt >= ATTEMPTS) {
                    throw e;
                }
            }
        }
    }

    private static List<Entry> parse(String text) {
        List<Entry> out = new ArrayList<>();
        for (String line : text.split("\n")) {
            String[] parts = line.strip().split(" ");
            if (parts.length == 2) {
                out.add(new Entry(parts[0], Long.parseLong(parts[1])));
            }
        }
        return out;
    }

    private static String hash(String token) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(token.getBytes(UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("no SHA-256", e);
        }
    }
}
