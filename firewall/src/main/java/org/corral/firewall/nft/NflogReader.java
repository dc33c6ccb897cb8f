package org.corral.firewall.nft;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.util.Objects.requireNonNull;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the packets the ruleset logs to NFLOG group {@link NftCompiler#LOG_GROUP} over a netlink
 * socket (nfnetlink_log, bound in the namespace nft works in) and adds each to a
 * {@link FirewallLog} as a line in Proxmox's log shape. One platform thread of its own: it enters
 * the network namespace first, which changes that thread only.
 */
final class NflogReader implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(NflogReader.class);
    private static final int AF_NETLINK = 16;
    private static final int SOCK_RAW_CLOEXEC = 3 | 0x80000;
    private static final int NETLINK_NETFILTER = 12;
    private static final int CLONE_NEWNET = 0x40000000;
    private static final int O_RDONLY_CLOEXEC = 0x80000;
    private static final int ULOG_CONFIG = 4 << 8 | 1;
    private static final int ULOG_PACKET = 4 << 8;
    private static final int NLMSG_ERROR = 2;
    private static final int BUFFER = 1 << 17;
    private static final Pattern PREFIX = Pattern.compile(":([^:]*):([a-z]*): (.*?):? *");
    private static final Pattern GUEST_CHAIN = Pattern.compile("(?:tap|veth)(\\d+)i\\d+.*|(\\d+)-.*");
    private static final List<String> LEVELS = List.of("emerg", "alert", "crit", "err", "warning", "notice", "info", "debug");
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("dd/MMM/yyyy:HH:mm:ss Z", Locale.ROOT)
            .withZone(ZoneOffset.UTC);

    private final Optional<String> netns;
    private final int group;
    private final FirewallLog sink;
    private final IntFunction<String> interfaces;
    private final CountDownLatch ready = new CountDownLatch(1);
    private volatile boolean closed;
    private final Thread thread;

    private NflogReader(Optional<String> netns, int group, FirewallLog sink, IntFunction<String> interfaces) {
        this.netns = netns;
        this.group = group;
        this.sink = sink;
        this.interfaces = interfaces;
        this.thread = Thread.ofPlatform().daemon().name("firewall-nflog").unstarted(this::run);
    }

    /**
     * Starts reading group {@code group} in network namespace {@code netns} (the current one when
     * empty); answers once the socket is bound or has failed (see the log's state).
     */
    static NflogReader start(Optional<String> netns, int group, FirewallLog sink, IntFunction<String> interfaces) {
        NflogReader reader = new NflogReader(requireNonNull(netns, "netns is null"), group, requireNonNull(sink, "sink is null"),
                requireNonNull(interfaces, "interfaces is null"));
        reader.thread.start();
        try {
            reader.ready.await(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return reader;
    }

    private void run() {
        Optional<Libc> loaded = Libc.load();
        if (loaded.isEmpty()) {
            fail("reading NFLOG needs the JDK's foreign function API (Java 22 or later, native access enabled)");
            return;
        }
        Libc libc = loaded.get();
        int fd = -1;
        try {
            if (netns.isPresent()) {
                Libc.Memory path = libc.allocate(256);
                path.bytes().put(("/var/run/netns/" + netns.get()).getBytes(US_ASCII)).put((byte) 0);
                int ns = libc.open(path, O_RDONLY_CLOEXEC);
                if (ns < 0 || libc.setns(ns, CLONE_NEWNET) != 0) {
                    fail("cannot enter network namespace " + netns.get());
                    return;
                }
                libc.close(ns);
            }
            fd = libc.socket(AF_NETLINK, SOCK_RAW_CLOEXEC, NETLINK_NETFILTER);
            Libc.Memory address = libc.allocate(12);
            address.bytes().putShort((short) AF_NETLINK).putShort((short) 0).putInt(0).putInt(0);
            Libc.Memory timeout = libc.allocate(16);
            // a receive timeout, so that close() is seen within a second
            timeout.bytes().putLong(1).putLong(0);
            if (fd < 0 || libc.bind(fd, address, 12) != 0 || libc.setsockopt(fd, 1, 20, timeout, 16) != 0) {
                fail("cannot open a netfilter netlink socket");
                return;
            }
            Libc.Memory buffer = libc.allocate(BUFFER);
            if (!configure(libc, fd, buffer)) {
                return;
            }
            sink.state("reading NFLOG group " + group);
            ready.countDown();
            while (!closed) {
                long n = libc.recv(fd, buffer, BUFFER);
                if (n > 0) {
                    messages(buffer.bytes(), (int) n);
                }
            }
        } catch (RuntimeException e) {
            fail("NFLOG reader stopped: " + e.getMessage());
        } finally {
            if (fd >= 0) {
                libc.close(fd);
            }
            ready.countDown();
        }
    }

    private void fail(String message) {
        sink.state(message);
        log.warn("Firewall log not read: {}", message);
        ready.countDown();
    }

    /** Binds the group and asks for whole packets, one message per packet at once; false (and the log says why) when refused. */
    private boolean configure(Libc libc, int fd, Libc.Memory buffer) {
        ByteBuffer out = buffer.bytes().clear();
        int start = out.position();
        header(out, 1);
        attribute(out, 1, new byte[] {1});
        out.putInt(start, out.position() - start);
        if (libc.send(fd, buffer, out.position()) < 0 || !acknowledged(libc, fd, buffer, "bind")) {
            return false;
        }
        out.clear();
        header(out, 2);
        // copy mode: the packet, up to 0xffff bytes; flush after every packet (qthresh 1, no timeout)
        attribute(out, 2, ByteBuffer.allocate(6).putInt(0xffff).put((byte) 2).put((byte) 0).array());
        attribute(out, 4, ByteBuffer.allocate(4).putInt(0).array());
        attribute(out, 5, ByteBuffer.allocate(4).putInt(1).array());
        out.putInt(0, out.position());
        return libc.send(fd, buffer, out.position()) >= 0 && acknowledged(libc, fd, buffer, "configure");
    }

    private void header(ByteBuffer out, int seq) {
        out.putInt(0).putShort((short) ULOG_CONFIG).putShort((short) (1 | 4)).putInt(seq).putInt(0);
        out.put((byte) 0).put((byte) 0).order(ByteOrder.BIG_ENDIAN).putShort((short) group).order(ByteOrder.nativeOrder());
    }

    private static void attribute(ByteBuffer out, int type, byte[] value) {
        out.putShort((short) (4 + value.length)).putShort((short) type).put(value);
        while (out.position() % 4 != 0) {
            out.put((byte) 0);
        }
    }

    private boolean acknowledged(Libc libc, int fd, Libc.Memory buffer, String what) {
        long n = libc.recv(fd, buffer, BUFFER);
        ByteBuffer in = buffer.bytes();
        if (n < 20 || in.getShort(4) != NLMSG_ERROR) {
            fail("no answer from nfnetlink_log to " + what);
            return false;
        }
        int error = in.getInt(16);
        if (error != 0) {
            fail("nfnetlink_log refused to " + what + " group " + group + " (errno " + -error
                    + (error == -16 ? ": another program reads it" : "") + ")");
            return false;
        }
        return true;
    }

    private void messages(ByteBuffer in, int length) {
        int at = 0;
        while (at + 16 <= length) {
            int len = in.getInt(at);
            if (len < 16 || at + len > length) {
                return;
            }
            if ((in.getShort(at + 4) & 0xffff) == ULOG_PACKET) {
                try {
                    packet(in, at, len);
                } catch (RuntimeException e) {
                    log.debug("Unreadable NFLOG message: {}", e.toString());
                }
            }
            at += (len + 3) & ~3;
        }
    }

    private void packet(ByteBuffer in, int at, int len) {
        String prefix = "";
        byte[] payload = new byte[0];
        int[] devices = new int[4];
        long time = Instant.now().getEpochSecond();
        int a = at + 20;
        while (a + 4 <= at + len) {
            int alen = in.getShort(a) & 0xffff;
            int type = in.getShort(a + 2) & 0x3fff;
            if (alen < 4) {
                break;
            }
            byte[] value = new byte[alen - 4];
            in.get(a + 4, value);
            ByteBuffer v = ByteBuffer.wrap(value);
            switch (type) {
                case 3 -> time = v.getLong(0);
                case 4, 5, 6, 7 -> devices[type - 4] = v.getInt(0);
                case 9 -> payload = value;
                case 10 -> prefix = new String(value, 0, Math.max(0, indexOfZero(value)), US_ASCII);
                default -> { }
            }
            a += (alen + 3) & ~3;
        }
        Matcher m = PREFIX.matcher(prefix);
        String chain = m.matches() ? m.group(1) : prefix.strip();
        String level = m.matches() ? m.group(2) : "info";
        String action = m.matches() ? m.group(3) : "";
        Matcher guest = GUEST_CHAIN.matcher(chain);
        int vmid = guest.matches() ? Integer.parseInt(guest.group(1) != null ? guest.group(1) : guest.group(2)) : 0;
        StringBuilder line = new StringBuilder();
        line.append(vmid).append(' ').append(Math.max(0, LEVELS.indexOf(level))).append(' ').append(chain).append(' ')
                .append(TIME.format(Instant.ofEpochSecond(time))).append(' ').append(action).append(':');
        String[] names = {"IN", "OUT", "PHYSIN", "PHYSOUT"};
        for (int d = 0; d < 4; d++) {
            if (devices[d] != 0 || d < 2) {
                line.append(' ').append(names[d]).append('=').append(devices[d] == 0 ? "" : interfaces.apply(devices[d]));
            }
        }
        line.append(describe(payload));
        sink.add(new FirewallLog.Entry(time, vmid, line.toString()));
    }

    private static int indexOfZero(byte[] value) {
        for (int i = 0; i < value.length; i++) {
            if (value[i] == 0) {
                return i;
            }
        }
        return value.length;
    }

    /** The IP header's and the ports' fields as iptables' LOG target writes them. */
    static String describe(byte[] p) {
        if (p.length < 20) {
            return "";
        }
        StringBuilder out = new StringBuilder();
        int version = (p[0] & 0xf0) >> 4;
        int l4;
        int proto;
        if (version == 4) {
            int ihl = (p[0] & 0x0f) * 4;
            out.append(" SRC=").append(address(Arrays.copyOfRange(p, 12, 16))).append(" DST=").append(address(Arrays.copyOfRange(p, 16, 20)))
                    .append(" LEN=").append(u16(p, 2)).append(" TTL=").append(p[8] & 0xff).append(" ID=").append(u16(p, 4));
            proto = p[9] & 0xff;
            l4 = ihl;
        } else if (version == 6 && p.length >= 40) {
            out.append(" SRC=").append(address(Arrays.copyOfRange(p, 8, 24))).append(" DST=").append(address(Arrays.copyOfRange(p, 24, 40)))
                    .append(" LEN=").append(u16(p, 4) + 40).append(" HOPLIMIT=").append(p[7] & 0xff);
            proto = p[6] & 0xff;
            l4 = 40;
        } else {
            return "";
        }
        switch (proto) {
            case 6, 17 -> {
                out.append(" PROTO=").append(proto == 6 ? "TCP" : "UDP");
                if (p.length >= l4 + 4) {
                    out.append(" SPT=").append(u16(p, l4)).append(" DPT=").append(u16(p, l4 + 2));
                }
                if (proto == 6 && p.length >= l4 + 14) {
                    int flags = p[l4 + 13] & 0xff;
                    String[] names = {"FIN", "SYN", "RST", "PSH", "ACK", "URG"};
                    for (int bit = 0; bit < names.length; bit++) {
                        if ((flags & (1 << bit)) != 0) {
                            out.append(' ').append(names[bit]);
                        }
                    }
                }
            }
            case 1, 58 -> {
                out.append(" PROTO=").append(proto == 1 ? "ICMP" : "ICMPv6");
                if (p.length >= l4 + 2) {
                    out.append(" TYPE=").append(p[l4] & 0xff).append(" CODE=").append(p[l4 + 1] & 0xff);
                }
            }
            default -> out.append(" PROTO=").append(proto);
        }
        return out.toString();
    }

    private static int u16(byte[] p, int at) {
        return (p[at] & 0xff) << 8 | (p[at + 1] & 0xff);
    }

    private static String address(byte[] bytes) {
        try {
            return InetAddress.getByAddress(bytes).getHostAddress();
        } catch (UnknownHostException e) {
            return "?";
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            thread.join(3000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
