package org.corral.core.console;

import static java.util.Objects.requireNonNull;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Consoles waiting for their websocket, as Proxmox's {@code termproxy}/{@code vncproxy} calls
 * leave a proxy waiting on a port. Here the "port" is a handle into this table. The ticket is
 * bound to its user, its guest and its port, and is good for a minute: the {@code vncwebsocket}
 * call must name all of them, and takes the console once; {@code POST /access/vncticket} may check
 * the ticket against its user and ACL path ({@code /vms/VMID}) until it expires.
 */
public final class ConsoleProxies {
    private static final Duration VALIDITY = Duration.ofSeconds(60);
    private static final int FIRST_PORT = 5900;
    private static final Pattern GUEST = Pattern.compile("/nodes/[^/]+/(?:qemu|lxc)/([0-9]+)");

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

        /** The ACL path the ticket is for: {@code /vms/VMID} for a guest's console, as Proxmox binds its vnc tickets. */
        public String aclPath() {
            return ConsoleProxies.aclPath(guestPath);
        }
    }

    /** A console and whether its websocket has taken it; a taken one stays until it expires, for {@link #verify}. */
    private record Entry(Pending console, boolean claimed) {}

    private final Clock clock;
    private final SecureRandom random = new SecureRandom();
    private final AtomicInteger nextPort = new AtomicInteger(FIRST_PORT);
    private final Map<Integer, Entry> consoles = new ConcurrentHashMap<>();

    public ConsoleProxies(Clock clock) {
        this.clock = requireNonNull(clock, "clock is null");
    }

    /**
     * The ACL path of a console's API path: a guest's ({@code /nodes/N/qemu/100}, {@code /nodes/N/lxc/100})
     * is {@code /vms/100}; any other console (a node's shell at {@code /nodes/N}) is checked on its own path.
     */
    public static String aclPath(String guestPath) {
        Matcher guest = GUEST.matcher(guestPath);
        return guest.matches() ? "/vms/" + guest.group(1) : guestPath;
    }

    /** Registers a console for {@code user}; {@code guestPath} is the API path of the guest ({@code /nodes/N/qemu/100}). */
    public Pending register(String user, String guestPath, ConsoleKind kind, ConsoleBackend backend) {
        consoles.values().removeIf(e -> expired(e.console()));
        byte[] bytes = new byte[kind == ConsoleKind.RFB ? 6 : 24];
        random.nextBytes(bytes);
        // a VNC password is at most 8 characters
        String ticket = kind == ConsoleKind.RFB ? Base64.getUrlEncoder().withoutPadding().encodeToString(bytes)
                : "PVEVNC:" + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
        int port = nextPort.getAndUpdate(p -> p >= 65_535 ? FIRST_PORT : p + 1);
        Pending entry = new Pending(port, ticket, user, guestPath, kind, backend, clock.instant().plus(VALIDITY));
        consoles.put(port, new Entry(entry, false));
        return entry;
    }

    /**
     * Takes the console for {@code port} if the ticket, user and guest match and it has not expired.
     * A console is taken once.
     */
    public Optional<Pending> claim(int port, String ticket, String user, String guestPath) {
        Entry entry = consoles.get(port);
        if (entry == null || entry.claimed() || !valid(entry.console(), ticket, user) || !entry.console().guestPath().equals(guestPath)) {
            return Optional.empty();
        }
        return consoles.replace(port, entry, new Entry(entry.console(), true)) ? Optional.of(entry.console()) : Optional.empty();
    }

    /**
     * Whether {@code ticket} is a console ticket of {@code user} for {@code aclPath} (normalized,
     * {@code /vms/100}) that has not expired, and of {@code port} when one is given. Checking takes
     * nothing: the console's websocket, before or after, still needs the ticket.
     */
    public boolean verify(String ticket, String user, String aclPath, OptionalInt port) {
        requireNonNull(aclPath, "aclPath is null");
        requireNonNull(port, "port is null");
        for (Entry entry : consoles.values()) {
            Pending console = entry.console();
            if (valid(console, ticket, user) && console.aclPath().equals(aclPath)
                    && (port.isEmpty() || port.getAsInt() == console.port())) {
                return true;
            }
        }
        return false;
    }

    /** The one check of a ticket, for the websocket and for {@link #verify}: same ticket, same user, not expired. */
    private boolean valid(Pending console, String ticket, String user) {
        requireNonNull(ticket, "ticket is null");
        requireNonNull(user, "user is null");
        return MessageDigest.isEqual(console.ticket().getBytes(StandardCharsets.UTF_8), ticket.getBytes(StandardCharsets.UTF_8))
                && console.user().equals(user) && !expired(console);
    }

    private boolean expired(Pending console) {
        return console.expires().isBefore(clock.instant());
    }
}
