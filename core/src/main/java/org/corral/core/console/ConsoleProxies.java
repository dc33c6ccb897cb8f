package org.corral.core.console;

import static java.util.Objects.requireNonNull;

import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Consoles waiting for their websocket, as Proxmox's {@code termproxy}/{@code vncproxy} calls
 * leave a proxy waiting on a port. Here the "port" is a handle into this table and the ticket is
 * one-time: the {@code vncwebsocket} call must name both, within a minute, as the same user.
 */
public final class ConsoleProxies {
    private static final Duration VALIDITY = Duration.ofSeconds(60);
    private static final int FIRST_PORT = 5900;

    /** One registered console: what {@code termproxy}/{@code vncproxy} answer. */
    public record Pending(int port, String ticket, String user, String guestPath, ConsoleKind kind, ConsoleBackend backend,
            Instant expires) {
        public Pending {
            requireNonNull(ticket, "ticket is null");
            requireNonNull(user, "user is null");
            requireNonNull(guestPath, "guestPath is null");
            requireNonNull(kind, "kind is null");
            requireNonNull(backend, "backend is null");
            requireNonNull(expires, "expires is null");
        }
    }

    private final Clock clock;
    private final SecureRandom random = new SecureRandom();
    private final AtomicInteger nextPort = new AtomicInteger(FIRST_PORT);
    private final Map<Integer, Pending> pending = new ConcurrentHashMap<>();

    public ConsoleProxies(Clock clock) {
        this.clock = requireNonNull(clock, "clock is null");
    }

    /** Registers a console for {@code user}; {@code guestPath} is the API path of the guest ({@code /nodes/N/qemu/100}). */
    public Pending register(String user, String guestPath, ConsoleKind kind, ConsoleBackend backend) {
        pending.values().removeIf(p -> p.expires().isBefore(clock.instant()));
        byte[] bytes = new byte[kind == ConsoleKind.RFB ? 6 : 24];
        random.nextBytes(bytes);
        // a VNC password is at most 8 characters
        String ticket = kind == ConsoleKind.RFB ? Base64.getUrlEncoder().withoutPadding().encodeToString(bytes)
                : "PVEVNC:" + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
        int port = nextPort.getAndUpdate(p -> p >= 65_535 ? FIRST_PORT : p + 1);
        Pending entry = new Pending(port, ticket, user, guestPath, kind, backend, clock.instant().plus(VALIDITY));
        pending.put(port, entry);
        return entry;
    }

    /**
     * Takes the console for {@code port} if the ticket, user and guest match and it has not expired.
     * A console is taken once.
     */
    public Optional<Pending> claim(int port, String ticket, String user, String guestPath) {
        Pending entry = pending.get(port);
        if (entry == null || entry.expires().isBefore(clock.instant()) || !entry.user().equals(user)
                || !entry.guestPath().equals(guestPath)
                || !java.security.MessageDigest.isEqual(entry.ticket().getBytes(), ticket.getBytes())) {
            return Optional.empty();
        }
        return pending.remove(port, entry) ? Optional.of(entry) : Optional.empty();
    }
}
