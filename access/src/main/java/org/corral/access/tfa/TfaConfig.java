package org.corral.access.tfa;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.SortedMap;
import java.util.TreeMap;
import org.corral.core.json.Json;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * priv/tfa.cfg in Proxmox VE's JSON layout: {@code users} maps each user id to its
 * {@code totp}, {@code u2f}, {@code webauthn} and {@code yubico} entries (each with {@code id},
 * {@code description}, {@code created}, {@code enable} when false, and {@code entry}), its
 * {@code recovery} keys and its lock state; other top-level keys (the WebAuthn and U2F settings)
 * are kept as they are.
 */
public record TfaConfig(SortedMap<String, TfaUser> users, ObjectNode settings) {
    public static final List<String> ENTRY_TYPES = List.of("totp", "u2f", "webauthn", "yubico");
    public static final TfaConfig EMPTY = new TfaConfig(new TreeMap<>(), Json.object());

    public TfaConfig {
        users = Collections.unmodifiableSortedMap(new TreeMap<>(users));
        requireNonNull(settings, "settings is null");
    }

    public TfaUser user(String userid) {
        return users.getOrDefault(userid, TfaUser.EMPTY);
    }

    public TfaConfig withUser(String userid, TfaUser user) {
        TreeMap<String, TfaUser> next = new TreeMap<>(users);
        if (user.isEmpty()) {
            next.remove(userid);
        } else {
            next.put(userid, user);
        }
        return new TfaConfig(next, settings);
    }

    public static TfaConfig parse(String text) {
        if (text.isBlank()) {
            return EMPTY;
        }
        JsonNode root = Json.read(text);
        if (!root.isObject()) {
            throw new IllegalArgumentException("tfa.cfg is not a JSON object");
        }
        ObjectNode settings = Json.object();
        SortedMap<String, TfaUser> users = new TreeMap<>();
        for (Map.Entry<String, JsonNode> field : root.properties()) {
            if (!field.getKey().equals("users")) {
                settings.set(field.getKey(), field.getValue());
                continue;
            }
            for (Map.Entry<String, JsonNode> user : field.getValue().properties()) {
                users.put(user.getKey(), parseUser(user.getValue()));
            }
        }
        return new TfaConfig(users, settings);
    }

    private static TfaUser parseUser(JsonNode node) {
        List<TfaEntry> entries = new ArrayList<>();
        for (String type : ENTRY_TYPES) {
            for (JsonNode entry : node.path(type)) {
                entries.add(new TfaEntry(type, entry.path("id").asString(), entry.path("description").asString(""),
                        entry.path("created").asLong(0), entry.path("enable").asBoolean(true), entry.path("entry"),
                        entry.has("last-step") ? OptionalLong.of(entry.path("last-step").asLong()) : OptionalLong.empty()));
            }
        }
        Optional<Recovery> recovery = Optional.empty();
        JsonNode rec = node.path("recovery");
        if (rec.isObject()) {
            List<Optional<String>> keys = new ArrayList<>();
            for (JsonNode key : rec.path("entries")) {
                keys.add(key.isString() ? Optional.of(key.asString()) : Optional.empty());
            }
            recovery = Optional.of(new Recovery(rec.path("secret").asString(), keys, rec.path("created").asLong(0)));
        }
        return new TfaUser(entries, recovery, node.path("totp-locked").asBoolean(false),
                node.has("tfa-locked-until") ? OptionalLong.of(node.path("tfa-locked-until").asLong()) : OptionalLong.empty(),
                node.path("totp-failures").asInt(0), node.path("tfa-failures").asInt(0));
    }

    public String write() {
        ObjectNode root = Json.object();
        ObjectNode usersNode = root.putObject("users");
        users.forEach((userid, user) -> usersNode.set(userid, writeUser(user)));
        settings.properties().forEach(field -> root.set(field.getKey(), field.getValue()));
        return Json.write(root) + "\n";
    }

    private static ObjectNode writeUser(TfaUser user) {
        ObjectNode node = Json.object();
        for (String type : ENTRY_TYPES) {
            List<TfaEntry> ofType = user.entries().stream().filter(e -> e.type().equals(type)).toList();
            if (ofType.isEmpty()) {
                continue;
            }
            ArrayNode array = node.putArray(type);
            for (TfaEntry entry : ofType) {
                ObjectNode e = array.addObject();
                e.put("id", entry.id());
                e.put("description", entry.description());
                e.put("created", entry.created());
                if (!entry.enable()) {
                    e.put("enable", false);
                }
                e.set("entry", entry.entry());
                entry.lastStep().ifPresent(step -> e.put("last-step", step));
            }
        }
        user.recovery().ifPresent(recovery -> {
            ObjectNode r = node.putObject("recovery");
            r.put("secret", recovery.secret());
            ArrayNode keys = r.putArray("entries");
            recovery.entries().forEach(key -> {
                if (key.isPresent()) {
                    keys.add(key.get());
                } else {
                    keys.addNull();
                }
            });
            r.put("created", recovery.created());
        });
        if (user.totpLocked()) {
            node.put("totp-locked", true);
        }
        user.tfaLockedUntil().ifPresent(until -> node.put("tfa-locked-until", until));
        if (user.totpFailures() > 0) {
            node.put("totp-failures", user.totpFailures());
        }
        if (user.tfaFailures() > 0) {
            node.put("tfa-failures", user.tfaFailures());
        }
        return node;
    }
}
