package org.corral.firewall.nft;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.JsonNode;

/**
 * The compiled batch in nft-like text, for assertions that read like rules: each chain's rules,
 * in order, one line each ({@code tcp dport 80 accept}), keyed {@code family/chain}.
 */
final class NftText {
    private NftText() {}

    static Map<String, List<String>> chains(JsonNode batch) {
        Map<String, List<String>> chains = new LinkedHashMap<>();
        for (JsonNode command : batch.get("nftables")) {
            JsonNode add = command.get("add");
            if (add == null) {
                continue;
            }
            if (add.has("chain")) {
                JsonNode c = add.get("chain");
                chains.put(c.get("family").asString() + "/" + c.get("name").asString(), new ArrayList<>());
            } else if (add.has("rule")) {
                JsonNode r = add.get("rule");
                List<String> words = new ArrayList<>();
                for (JsonNode e : r.get("expr")) {
                    words.add(statement(e));
                }
                chains.get(r.get("family").asString() + "/" + r.get("chain").asString()).add(String.join(" ", words));
            }
        }
        return chains;
    }

    /** The named sets with their elements, keyed {@code family/name}. */
    static Map<String, String> sets(JsonNode batch) {
        Map<String, String> sets = new LinkedHashMap<>();
        for (JsonNode command : batch.get("nftables")) {
            JsonNode add = command.get("add");
            if (add != null && add.has("set")) {
                JsonNode s = add.get("set");
                List<String> elements = new ArrayList<>();
                if (s.has("elem")) {
                    s.get("elem").forEach(e -> elements.add(value(e)));
                }
                sets.put(s.get("family").asString() + "/" + s.get("name").asString(), String.join(", ", elements));
            }
        }
        return sets;
    }

    static String statement(JsonNode e) {
        String kind = e.propertyNames().iterator().next();
        JsonNode body = e.get(kind);
        return switch (kind) {
            case "match" -> {
                String op = body.get("op").asString();
                yield expression(body.get("left")) + (op.equals("==") || op.equals("in") ? " " : " " + op + " ")
                        + value(body.get("right"));
            }
            case "accept", "drop", "return" -> kind;
            case "jump" -> "jump " + body.get("target").asString();
            case "reject" -> "reject " + body.get("type").asString() + (body.has("expr") ? " " + body.get("expr").asString() : "");
            case "log" -> "log prefix \"" + body.get("prefix").asString() + "\" group " + body.get("group").asInt();
            case "mangle" -> expression(body.get("key")) + " set " + value(body.get("value"));
            case "vmap" -> {
                List<String> entries = new ArrayList<>();
                body.get("data").get("set").forEach(pair -> entries.add(value(pair.get(0)) + " : " + statement(pair.get(1))));
                yield expression(body.get("key")) + " vmap { " + String.join(", ", entries) + " }";
            }
            default -> e.toString();
        };
    }

    static String expression(JsonNode e) {
        if (e.has("payload")) {
            return e.get("payload").get("protocol").asString() + " " + e.get("payload").get("field").asString();
        }
        if (e.has("meta")) {
            return "meta " + e.get("meta").get("key").asString();
        }
        if (e.has("ct")) {
            return "ct " + e.get("ct").get("key").asString();
        }
        return value(e);
    }

    static String value(JsonNode v) {
        if (v.isString()) {
            return v.asString();
        }
        if (v.isNumber()) {
            long n = v.asLong();
            return n >= 0x10000 ? "0x" + Long.toHexString(n) : Long.toString(n);
        }
        if (v.isArray()) {
            List<String> items = new ArrayList<>();
            v.forEach(i -> items.add(value(i)));
            return String.join(",", items);
        }
        if (v.has("set")) {
            List<String> items = new ArrayList<>();
            v.get("set").forEach(i -> items.add(i.isArray() ? value(i.get(0)) + " : " + value(i.get(1)) : value(i)));
            return "{ " + String.join(", ", items) + " }";
        }
        if (v.has("prefix")) {
            return v.get("prefix").get("addr").asString() + "/" + v.get("prefix").get("len").asInt();
        }
        if (v.has("range")) {
            return value(v.get("range").get(0)) + "-" + value(v.get("range").get(1));
        }
        if (v.has("&")) {
            return expression(v.get("&").get(0)) + " & " + value(v.get("&").get(1));
        }
        if (v.has("|")) {
            return expression(v.get("|").get(0)) + " | " + value(v.get("|").get(1));
        }
        if (v.has("map")) {
            return expression(v.get("map").get("key")) + " map " + value(v.get("map").get("data"));
        }
        if (v.has("meta") || v.has("payload") || v.has("ct")) {
            return expression(v);
        }
        return v.toString();
    }
}
