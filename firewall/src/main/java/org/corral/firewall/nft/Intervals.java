package org.corral.firewall.nft;

import java.math.BigInteger;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import tools.jackson.databind.JsonNode;

/**
 * Set elements made disjoint. nft refuses overlapping elements in an interval set ("conflicting
 * intervals specified"), and nft 1.0.6 ignores {@code auto-merge} in JSON input, so an IP set with
 * 192.0.2.0/24 and 192.0.2.10 (say, local_network and a management host) would fail the whole
 * batch. Overlapping and adjacent elements are merged here, each result written as an address,
 * a prefix or a range.
 */
final class Intervals {
    private Intervals() {}

    private record Interval(BigInteger from, BigInteger to) {}

    static List<JsonNode> normalize(int version, List<JsonNode> elements) {
        int bits = version == 4 ? 32 : 128;
        List<Interval> intervals = new ArrayList<>();
        for (JsonNode element : elements) {
            intervals.add(interval(element, bits));
        }
        intervals.sort(Comparator.comparing(Interval::from));
        List<Interval> merged = new ArrayList<>();
        for (Interval next : intervals) {
            if (!merged.isEmpty() && next.from().compareTo(merged.getLast().to().add(BigInteger.ONE)) <= 0) {
                Interval last = merged.removeLast();
                merged.add(new Interval(last.from(), last.to().max(next.to())));
            } else {
                merged.add(next);
            }
        }
        List<JsonNode> out = new ArrayList<>();
        for (Interval i : merged) {
            out.add(element(i, bits));
        }
        return out;
    }

    private static Interval interval(JsonNode element, int bits) {
        if (element.isString()) {
            BigInteger a = number(element.asString());
            return new Interval(a, a);
        }
        if (element.has("prefix")) {
            BigInteger net = number(element.get("prefix").get("addr").asString());
            int len = element.get("prefix").get("len").asInt();
            return new Interval(net, net.add(BigInteger.ONE.shiftLeft(bits - len)).subtract(BigInteger.ONE));
        }
        BigInteger from = number(element.get("range").get(0).asString());
        BigInteger to = number(element.get("range").get(1).asString());
        return from.compareTo(to) <= 0 ? new Interval(from, to) : new Interval(to, from);
    }

    private static JsonNode element(Interval i, int bits) {
        if (i.from().equals(i.to())) {
            return Nft.text(text(i.from(), bits));
        }
        BigInteger size = i.to().subtract(i.from()).add(BigInteger.ONE);
        if (size.bitCount() == 1 && i.from().mod(size).signum() == 0) {
            return Nft.prefix(text(i.from(), bits), bits - (size.bitLength() - 1));
        }
        return Nft.range(Nft.text(text(i.from(), bits)), Nft.text(text(i.to(), bits)));
    }

    private static BigInteger number(String address) {
        try {
            return new BigInteger(1, InetAddress.getByName(address).getAddress());
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("invalid IP address '" + address + "'");
        }
    }

    private static String text(BigInteger value, int bits) {
        byte[] raw = value.toByteArray();
        byte[] bytes = new byte[bits / 8];
        int copy = Math.min(raw.length, bytes.length);
        System.arraycopy(raw, raw.length - copy, bytes, bytes.length - copy, copy);
        try {
            return InetAddress.getByAddress(bytes).getHostAddress();
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }
}
