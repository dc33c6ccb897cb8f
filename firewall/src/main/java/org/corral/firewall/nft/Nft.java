package org.corral.firewall.nft;

import java.util.List;
import org.corral.core.json.Json;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/** Builders for the pieces of nftables' JSON syntax ({@code libnftables-json(5)}) that the compiler uses. */
final class Nft {
    private static final JsonNodeFactory F = Json.mapper().getNodeFactory();

    private Nft() {}

    static ObjectNode object() {
        return F.objectNode();
    }

    static ArrayNode array() {
        return F.arrayNode();
    }

    static ObjectNode meta(String key) {
        ObjectNode meta = object();
        meta.putObject("meta").put("key", key);
        return meta;
    }

    static ObjectNode ct(String key) {
        ObjectNode ct = object();
        ct.putObject("ct").put("key", key);
        return ct;
    }

    static ObjectNode payload(String protocol, String field) {
        ObjectNode payload = object();
        payload.putObject("payload").put("protocol", protocol).put("field", field);
        return payload;
    }

    static ObjectNode match(String op, JsonNode left, JsonNode right) {
        ObjectNode match = object();
        ObjectNode body = match.putObject("match");
        body.put("op", op);
        body.set("left", left);
        body.set("right", right);
        return match;
    }

    static ObjectNode eq(JsonNode left, JsonNode right) {
        return match("==", left, right);
    }

    static ObjectNode ne(JsonNode left, JsonNode right) {
        return match("!=", left, right);
    }

    static JsonNode text(String value) {
        return F.stringNode(value);
    }

    static JsonNode number(long value) {
        return F.numberNode(value);
    }

    static ObjectNode and(JsonNode left, long mask) {
        ObjectNode and = object();
        and.putArray("&").add(left).add(mask);
        return and;
    }

    static ObjectNode or(JsonNode left, long bits) {
        ObjectNode or = object();
        or.putArray("|").add(left).add(bits);
        return or;
    }

    static ObjectNode range(JsonNode from, JsonNode to) {
        ObjectNode range = object();
        range.putArray("range").add(from).add(to);
        return range;
    }

    static ObjectNode prefix(String address, int length) {
        ObjectNode prefix = object();
        prefix.putObject("prefix").put("addr", address).put("len", length);
        return prefix;
    }

    /** An anonymous set of values. */
    static ObjectNode set(List<JsonNode> values) {
        ObjectNode set = object();
        ArrayNode items = set.putArray("set");
        values.forEach(items::add);
        return set;
    }

    /** A named set's reference ({@code @name}). */
    static JsonNode setRef(String name) {
        return text("@" + name);
    }

    static ObjectNode verdict(String name) {
        ObjectNode verdict = object();
        verdict.putNull(name);
        return verdict;
    }

    static ObjectNode jump(String chain) {
        ObjectNode jump = object();
        jump.putObject("jump").put("target", chain);
        return jump;
    }

    /** {@code key vmap { k1 : jump c1, ... }}. */
    static ObjectNode vmap(JsonNode key, List<JsonNode[]> entries) {
        ObjectNode vmap = object();
        ObjectNode body = vmap.putObject("vmap");
        body.set("key", key);
        ArrayNode set = body.putObject("data").putArray("set");
        for (JsonNode[] entry : entries) {
            set.addArray().add(entry[0]).add(entry[1]);
        }
        return vmap;
    }

    static ObjectNode setMark(JsonNode value) {
        ObjectNode mangle = object();
        ObjectNode body = mangle.putObject("mangle");
        body.set("key", meta("mark"));
        body.set("value", value);
        return mangle;
    }

    static ObjectNode log(String prefix, int group) {
        ObjectNode log = object();
        log.putObject("log").put("prefix", prefix).put("group", group);
        return log;
    }

    static ObjectNode reject(String type, String expr) {
        ObjectNode reject = object();
        ObjectNode body = reject.putObject("reject").put("type", type);
        if (expr != null) {
            body.put("expr", expr);
        }
        return reject;
    }
}
