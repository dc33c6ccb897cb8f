package org.corral.access;

import static java.util.Objects.requireNonNull;

import java.security.PrivateKey;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import org.corral.core.config.ConfigFile;
import org.corral.core.config.ConfigStore;
import org.corral.core.config.StaleVersionException;
import org.corral.core.error.Conflict;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ticket signing key in the config store, replaced by a new pair when it is 24 hours old, when
 * it is missing or unreadable, or when a rotation stopped half-way. The rotation runs when a ticket
 * is issued, not on a timer: a node that issues no tickets needs no key, and the clock that decides
 * is the one that stamps the ticket. Nodes and threads rotate one at a time under a cluster lock,
 * re-check under it, and write with compare-and-set.
 */
final class TicketKeyRotation {
    static final Duration KEY_LIFETIME = Duration.ofHours(24);
    private static final Logger log = LoggerFactory.getLogger(TicketKeyRotation.class);
    private static final String LOCK = "authkey";
    private static final Duration LOCK_TIMEOUT = Duration.ofSeconds(30);
    private static final int ATTEMPTS = 5;

    private final ConfigStore store;
    private final CachedFile<Optional<TicketKeys.SigningKey>> signing;
    private final CachedFile<Optional<TicketVerifier.Key>> current;
    private final CachedFile<Optional<TicketVerifier.Key>> previous;
    private final Clock clock;

    TicketKeyRotation(AccessFiles files, Clock clock) {
        requireNonNull(files, "files is null");
        this.store = files.store();
        // read from the store on each use (no watch): only the login path asks
        this.signing = new CachedFile<>(store, AccessFiles.AUTH_KEY, TicketKeys::parsePrivate);
        this.current = files.ticketKey;
        this.previous = files.previousTicketKey;
        this.clock = requireNonNull(clock, "clock is null");
    }

    /** The key to sign with now; makes a new pair first when the current one is due. */
    PrivateKey signingKey() {
        Optional<TicketKeys.SigningKey> key = signing.get();
        if (!due(key, current.get())) {
            return key.orElseThrow().key();
        }
        if (key.isPresent() && !store.quorate()) {
            // without a quorum nothing can be written: keep signing with the current key until the cluster is back
            log.warn("Ticket signing key is due for rotation but the cluster has no quorum; rotating later");
            return key.get().key();
        }
        return rotate();
    }

    private boolean due(Optional<TicketKeys.SigningKey> key, Optional<TicketVerifier.Key> published) {
        return key.isEmpty() || published.isEmpty() || !key.get().publicKey().key().equals(published.get().key())
                || clock.instant().getEpochSecond() - published.get().created() >= KEY_LIFETIME.toSeconds();
    }

    @SuppressWarnings("try")
    private PrivateKey rotate() {
        try (ConfigStore.Lock lock = store.lock(LOCK, LOCK_TIMEOUT)) {
            store.sync();
            for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
                Optional<ConfigFile> privateFile = store.read(AccessFiles.AUTH_KEY);
                Optional<ConfigFile> publicFile = store.read(AccessFiles.AUTH_PUB);
                Optional<TicketKeys.SigningKey> key = privateFile.flatMap(f -> TicketKeys.parsePrivate(f.text()));
                if (!due(key, publicFile.flatMap(f -> TicketKeys.parsePublic(f.text())))) {
                    // another thread or node rotated while this one waited for the lock
                    return key.orElseThrow().key();
                }
                try {
                    return replace(key, privateFile, publicFile);
                } catch (StaleVersionException e) {
                    log.debug("Concurrent change of the ticket keys, retrying", e);
                }
            }
        }
        throw new Conflict("cannot rotate the ticket signing key: " + AccessFiles.AUTH_KEY + " keeps changing");
    }

    private PrivateKey replace(Optional<TicketKeys.SigningKey> old, Optional<ConfigFile> privateFile, Optional<ConfigFile> publicFile) {
        TicketKeys.SigningKey next = TicketKeys.generate(clock.instant().getEpochSecond());
        Optional<ConfigFile> previousFile = store.read(AccessFiles.AUTH_PUB_OLD);
        // the key that signed the tickets out there stays trusted for their lifetime; the public
        // files go first so that no verifier lacks the key of a ticket it is shown
        if (old.isPresent()) {
            write(previous, TicketKeys.publicText(old.get().publicKey()), previousFile);
        } else if (previousFile.isPresent()) {
            store.delete(AccessFiles.AUTH_PUB_OLD, previousFile.get().version());
            previous.changed();
        }
        write(current, TicketKeys.publicText(next.publicKey()), publicFile);
        write(signing, TicketKeys.privateText(next), privateFile);
        log.info("Rotated the ticket signing key");
        return next.key();
    }

    private void write(CachedFile<?> file, String text, Optional<ConfigFile> before) {
        int version = store.write(file.path(), text, before.map(ConfigFile::version).orElse(ConfigStore.NEW));
        file.written(text, version);
    }
}
