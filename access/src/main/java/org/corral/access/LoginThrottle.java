package org.corral.access;

import static java.util.Objects.requireNonNull;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.ConcurrentHashMap;
import org.corral.core.error.Unauthorized;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Slows down password guessing. Every failed login waits before it is answered, longer the more
 * recent failures its user or client address has; more than the allowed failures per user or per
 * address within the window lock further attempts of that user or address for a while. Locks
 * expire, so root@pam is never shut out for good; a successful login clears the user's and the
 * address's record.
 */
public final class LoginThrottle {
    public static final String LOCKED = "too many failed login attempts";
    private static final Logger log = LoggerFactory.getLogger(LoginThrottle.class);
    private static final int MAX_TRACKED = 10_000;

    private final Settings settings;
    private final Clock clock;
    private final ConcurrentHashMap<String, Failures> users = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Failures> addresses = new ConcurrentHashMap<>();

    /**
     * The first failure waits {@code baseDelay}, each further one twice as long up to
     * {@code maxDelay}. More than {@code maxUserFailures} failures of one user, or more than
     * {@code maxAddressFailures} from one address, within {@code window} lock it for {@code lockout}.
     */
    public record Settings(Duration baseDelay, Duration maxDelay, int maxUserFailures, int maxAddressFailures,
            Duration window, Duration lockout) {
        public Settings {
            requireNonNull(baseDelay, "baseDelay is null");
            requireNonNull(maxDelay, "maxDelay is null");
            requireNonNull(window, "window is null");
            requireNonNull(lockout, "lockout is null");
            if (maxUserFailures < 1 || maxAddressFailures < 1) {
                throw new IllegalArgumentException("failure limits must be at least 1");
            }
        }

        public static Settings defaults() {
            return new Settings(Duration.ofMillis(500), Duration.ofSeconds(3), 5, 20, Duration.ofMinutes(10), Duration.ofMinutes(5));
        }
    }

    public LoginThrottle(Settings settings, Clock clock) {
        this.settings = requireNonNull(settings, "settings is null");
        this.clock = requireNonNull(clock, "clock is null");
    }

    /** Refuses with 401 "too many failed login attempts" (after the delay) while the user or address is locked. */
    public void checkAllowed(String userid, String address) {
        Instant now = clock.instant();
        if (locked(users.get(userid), now) || locked(addresses.get(address), now)) {
            log.warn("Login of {} from {} refused: {}", userid, address, LOCKED);
            sleep(settings.maxDelay());
            throw new Unauthorized(LOCKED);
        }
    }

    /** Records a failed attempt and waits before the caller answers it. */
    public void failed(String userid, String address) {
        Instant now = clock.instant();
        prune(now);
        int userCount = record(users, userid, now, settings.maxUserFailures());
        int addressCount = record(addresses, address, now, settings.maxAddressFailures());
        sleep(delay(Math.max(userCount, addressCount)));
    }

    private int record(ConcurrentHashMap<String, Failures> records, String key, Instant now, int limit) {
        Failures failures = records.get(key);
        if (failures == null) {
            if (records.size() >= MAX_TRACKED) {
                // a flood of distinct names must not exhaust memory; known entries keep counting
                log.warn("Login throttle tracks {} entries already; not tracking {}", records.size(), key);
                return 1;
            }
            failures = records.computeIfAbsent(key, k -> new Failures());
        }
        return failures.add(now, settings, limit);
    }

    /** Forgets the failures of the user and of the address. */
    public void succeeded(String userid, String address) {
        users.remove(userid);
        addresses.remove(address);
    }

    /** The wait after the n-th recent failure: base, 2 base, 4 base... up to the maximum. */
    Duration delay(int failures) {
        int doublings = Math.max(0, Math.min(failures - 1, 20));
        Duration delay = settings.baseDelay().multipliedBy(1L << doublings);
        return delay.compareTo(settings.maxDelay()) > 0 ? settings.maxDelay() : delay;
    }

    private static boolean locked(Failures failures, Instant now) {
        return failures != null && failures.lockedAt(now);
    }

    private void prune(Instant now) {
        if (users.size() >= MAX_TRACKED) {
            users.values().removeIf(f -> f.idle(now, settings));
        }
        if (addresses.size() >= MAX_TRACKED) {
            addresses.values().removeIf(f -> f.idle(now, settings));
        }
    }

    private static void sleep(Duration delay) {
        try {
            Thread.sleep(delay);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static final class Failures {
        private final Deque<Instant> times = new ArrayDeque<>();
        private Instant lockedUntil = Instant.MIN;

        synchronized int add(Instant now, Settings settings, int limit) {
            expire(now, settings);
            times.addLast(now);
            if (times.size() > limit) {
                lockedUntil = now.plus(settings.lockout());
            }
            return times.size();
        }

        synchronized boolean lockedAt(Instant now) {
            return now.isBefore(lockedUntil);
        }

        synchronized boolean idle(Instant now, Settings settings) {
            expire(now, settings);
            return times.isEmpty() && !now.isBefore(lockedUntil);
        }

        private void expire(Instant now, Settings settings) {
            Instant oldest = now.minus(settings.window());
            while (!times.isEmpty() && times.peekFirst().isBefore(oldest)) {
                times.removeFirst();
            }
        }
    }
}
