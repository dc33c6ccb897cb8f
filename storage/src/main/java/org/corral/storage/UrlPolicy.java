package org.corral.storage;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Which URLs {@code download-url} may fetch: http and https only, and by default only hosts whose
 * every address is public. Loopback, link-local (cloud metadata services live there), private,
 * shared (CGNAT), multicast, unspecified and reserved addresses are refused unless datacenter.cfg
 * has {@code allow-private-download: 1}. Each redirect target is checked again.
 */
public final class UrlPolicy {
    private UrlPolicy() {}

    /** Parses {@code text} and refuses anything but a plain http(s) URL with a host. IllegalArgumentException says why. */
    public static URI parse(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c <= ' ' || c == 0x7f) {
                throw new IllegalArgumentException("URL contains whitespace or control characters");
            }
        }
        URI uri;
        try {
            uri = new URI(text);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("invalid URL: " + e.getReason(), e);
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw new IllegalArgumentException("only http and https URLs are allowed");
        }
        if (uri.getHost() == null || uri.getHost().isEmpty()) {
            throw new IllegalArgumentException("URL has no host");
        }
        return uri;
    }

    /** Resolves the URL's host and refuses it unless every address may be fetched from. */
    public static List<InetAddress> checkHost(URI uri, boolean allowPrivate) {
        String host = uri.getHost();
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        InetAddress[] addresses;
        try {
            addresses = InetAddress.getAllByName(host);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("unable to resolve host '" + host + "'", e);
        }
        if (!allowPrivate) {
            for (InetAddress address : addresses) {
                Optional<String> reason = forbidden(address);
                if (reason.isPresent()) {
                    throw new IllegalArgumentException("host '" + host + "' resolves to " + reason.get() + " address "
                            + address.getHostAddress() + "; set '" + StorageService.ALLOW_PRIVATE_DOWNLOAD
                            + ": 1' in datacenter.cfg to allow such downloads");
                }
            }
        }
        return List.of(addresses);
    }

    /** What kind of non-public address this is, or empty for a public one. */
    public static Optional<String> forbidden(InetAddress address) {
        if (address.isLoopbackAddress()) {
            return Optional.of("a loopback");
        }
        if (address.isAnyLocalAddress()) {
            return Optional.of("an unspecified");
        }
        if (address.isLinkLocalAddress()) {
            return Optional.of("a link-local");
        }
        if (address.isMulticastAddress()) {
            return Optional.of("a multicast");
        }
        if (address.isSiteLocalAddress()) {
            return Optional.of("a private");
        }
        byte[] b = address.getAddress();
        if (address instanceof Inet4Address) {
            int first = b[0] & 0xff;
            int second = b[1] & 0xff;
            if (first == 0) {
                return Optional.of("a \"this network\"");
            }
            if (first == 100 && second >= 64 && second <= 127) {
                return Optional.of("a shared (carrier-grade NAT)");
            }
            if (first == 198 && (second == 18 || second == 19)) {
                return Optional.of("a benchmarking");
            }
            if (first >= 240) {
                return Optional.of("a reserved");
            }
            if (first == 192 && second == 0 && (b[2] & 0xff) == 0) {
                return Optional.of("an IETF protocol");
            }
            return Optional.empty();
        }
        if (address instanceof Inet6Address) {
            int first = b[0] & 0xff;
            if ((first & 0xfe) == 0xfc) {
                return Optional.of("a unique local (private)");
            }
            // addresses that carry an IPv4 address: IPv4-compatible, NAT64 and 6to4
            boolean compatible = true;
            for (int i = 0; i < 12; i++) {
                compatible &= b[i] == 0;
            }
            if (compatible || first == 0x00 && (b[1] & 0xff) == 0x64 && (b[2] & 0xff) == 0xff && (b[3] & 0xff) == 0x9b) {
                return embedded(b, 12);
            }
            if (first == 0x20 && (b[1] & 0xff) == 0x02) {
                return embedded(b, 2);
            }
            if (first == 0x20 && (b[1] & 0xff) == 0x01 && b[2] == 0 && b[3] == 0) {
                return Optional.of("a Teredo");
            }
        }
        return Optional.empty();
    }

    private static Optional<String> embedded(byte[] address, int offset) {
        try {
            InetAddress v4 = InetAddress.getByAddress(new byte[] {address[offset], address[offset + 1], address[offset + 2], address[offset + 3]});
            return forbidden(v4).map(kind -> kind + " (embedded IPv4)");
        } catch (UnknownHostException e) {
            return Optional.of("an unparsable");
        }
    }
}
