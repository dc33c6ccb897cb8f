package org.corral.core.schema;

import java.net.InetAddress;
import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.corral.core.access.Privilege;

/**
 * Proxmox VE's named string formats. Each check returns the error message for a bad value, or
 * nothing. A name ending in {@code -list} checks every item of a comma/space separated list.
 */
public final class Formats {
    public static final String PVE_NODE = "pve-node";
    public static final String PVE_VMID = "pve-vmid";
    public static final String PVE_STORAGE_ID = "pve-storage-id";
    public static final String PVE_CONFIGID = "pve-configid";
    public static final String PVE_USERID = "pve-userid";
    public static final String PVE_GROUPID = "pve-groupid";
    public static final String PVE_ROLEID = "pve-roleid";
    public static final String PVE_POOLID = "pve-poolid";
    public static final String PVE_REALM = "pve-realm";
    public static final String PVE_TOKENID = "pve-tokenid";
    public static final String PVE_PRIV = "pve-priv";
    public static final String PVE_ACL_PATH = "pve-acl-path";
    public static final String PVE_TASK_ID = "pve-task-id";
    public static final String UPID = "pve-upid";
    public static final String EMAIL = "email-opt";
    public static final String IP = "ip";
    public static final String DNS_NAME = "dns-name";
    public static final String PEM = "pem-string";
    public static final String TIMEZONE = "timezone";

    private static final Pattern NODE = Pattern.compile("[a-zA-Z0-9]([a-zA-Z0-9\\-]*[a-zA-Z0-9])?");
    private static final Pattern STORAGE = Pattern.compile("[a-z][a-z0-9\\-_.]*[a-z0-9]");
    // pve-common: [a-z][a-z0-9_-]+, case-insensitive (datacenter.cfg has next-id, tag-style, ...)
    private static final Pattern CONFIGID = Pattern.compile("(?i)[a-z][a-z0-9_-]+");
    private static final Pattern REALM = Pattern.compile("[A-Za-z][A-Za-z0-9.\\-_]+");
    private static final Pattern USER = Pattern.compile("([^\\s:/]+)@(" + REALM.pattern() + ")");
    private static final Pattern TOKEN_SUBID = REALM;
    private static final Pattern GROUP = Pattern.compile("[A-Za-z0-9.\\-_]+");
    private static final Pattern POOL = Pattern.compile("[A-Za-z0-9.\\-_]+(/[A-Za-z0-9.\\-_]+){0,2}");
    private static final Pattern ACL_PATH = Pattern.compile("/|(/[A-Za-z0-9.\\-_:]+)+");
    private static final Pattern UPID_PATTERN = Pattern.compile(
            "UPID:[a-zA-Z0-9]([a-zA-Z0-9\\-]*[a-zA-Z0-9])?:[0-9A-Fa-f]{8}:[0-9A-Fa-f]{8,9}:[0-9A-Fa-f]{8}:[^:\\s]+:[^:\\s]*:[^:\\s]+:");
    private static final Pattern TASK_ID = Pattern.compile("[^:\\s/]+");
    private static final Pattern EMAIL_PATTERN = Pattern.compile("[\\w+\\-~.]+@[A-Za-z0-9\\-]+(\\.[A-Za-z0-9\\-]+)*");
    private static final Pattern DNS = Pattern.compile("([a-zA-Z0-9]([a-zA-Z0-9\\-]*[a-zA-Z0-9])?\\.)*[a-zA-Z0-9]([a-zA-Z0-9\\-]*[a-zA-Z0-9])?");
    private static final Pattern IPV4 = Pattern.compile("((25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)\\.){3}(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)");
    private static final Pattern TZ = Pattern.compile("[A-Za-z0-9_+\\-]+(/[A-Za-z0-9_+\\-]+)*");

    private static final Map<String, Function<String, Optional<String>>> CHECKS = Map.ofEntries(
            Map.entry(PVE_NODE, v -> regex(NODE, v, "invalid node name '" + v + "'")),
            Map.entry(PVE_VMID, Formats::vmid),
            Map.entry(PVE_STORAGE_ID, v -> regex(STORAGE, v, "storage ID '" + v + "' contains illegal characters")),
            Map.entry(PVE_CONFIGID, v -> regex(CONFIGID, v, "invalid configuration ID '" + v + "'")),
            Map.entry(PVE_USERID, Formats::userid),
            Map.entry(PVE_GROUPID, v -> dotsOnly(v).or(() -> regex(GROUP, v, "group name '" + v + "' contains invalid characters"))),
            Map.entry(PVE_ROLEID, v -> dotsOnly(v).or(() -> regex(GROUP, v, "role name '" + v + "' contains invalid characters"))),
            Map.entry(PVE_POOLID, v -> v.contains("..") ? Optional.of("pool name '" + v + "' contains invalid characters")
                    : regex(POOL, v, "pool name '" + v + "' contains invalid characters")),
            Map.entry(PVE_REALM, v -> regex(REALM, v, "realm '" + v + "' contains invalid characters")),
            Map.entry(PVE_TOKENID, v -> regex(TOKEN_SUBID, v, "invalid token ID '" + v + "'")),
            Map.entry(PVE_PRIV, v -> Privilege.byName(v).isPresent() ? Optional.empty() : Optional.of("invalid privilege '" + v + "'")),
            Map.entry(PVE_ACL_PATH, v -> v.contains("..") || v.length() > 1 && v.endsWith("/")
                    ? Optional.of("invalid ACL path '" + v + "'") : regex(ACL_PATH, v, "invalid ACL path '" + v + "'")),
            Map.entry(PVE_TASK_ID, v -> regex(TASK_ID, v, "invalid task id '" + v + "'")),
            Map.entry(UPID, v -> regex(UPID_PATTERN, v, "unable to parse worker upid '" + v + "'")),
            Map.entry(EMAIL, v -> regex(EMAIL_PATTERN, v, "value does not look like a valid email address")),
            Map.entry(IP, Formats::ip),
            Map.entry(DNS_NAME, v -> regex(DNS, v, "value does not look like a valid DNS name")),
            Map.entry(PEM, v -> v.contains("-----BEGIN ") ? Optional.empty() : Optional.of("value does not look like PEM data")),
            Map.entry(TIMEZONE, v -> v.contains("..") ? Optional.of("invalid time zone '" + v + "'")
                    : regex(TZ, v, "invalid time zone '" + v + "'")));

    private Formats() {}

    public static boolean known(String name) {
        return CHECKS.containsKey(baseName(name));
    }

    public static boolean isList(String name) {
        return name.endsWith("-list");
    }

    /** Splits a Proxmox list value the way Proxmox does: on commas, semicolons, NULs and spaces. */
    public static java.util.List<String> splitList(String value) {
        return Arrays.stream(value.split("[,;\\s\\x00]+")).filter(s -> !s.isEmpty()).toList();
    }

    public static Optional<String> check(String name, String value) {
        Function<String, Optional<String>> check = CHECKS.get(baseName(name));
        if (check == null) {
            throw new IllegalArgumentException("unknown format '" + name + "'");
        }
        if (!isList(name)) {
            return check.apply(value);
        }
        for (String item : splitList(value)) {
            Optional<String> error = check.apply(item);
            if (error.isPresent()) {
                return error;
            }
        }
        return Optional.empty();
    }

    private static String baseName(String name) {
        return isList(name) ? name.substring(0, name.length() - "-list".length()) : name;
    }

    private static Optional<String> regex(Pattern pattern, String value, String message) {
        return pattern.matcher(value).matches() ? Optional.empty() : Optional.of(message);
    }

    private static Optional<String> dotsOnly(String value) {
        return value.equals(".") || value.equals("..") ? Optional.of("invalid name '" + value + "'") : Optional.empty();
    }

    private static Optional<String> vmid(String value) {
        try {
            long id = Long.parseLong(value);
            return id >= 100 && id <= 999_999_999 ? Optional.empty()
                    : Optional.of("value must be between 100 and 999999999");
        } catch (NumberFormatException e) {
            return Optional.of("value does not look like a valid VM ID");
        }
    }

    private static Optional<String> userid(String value) {
        if (value.length() < 3) {
            return Optional.of("user name '" + value + "' is too short");
        }
        if (value.length() > 64) {
            return Optional.of("user name '" + value + "' is too long (" + value.length() + " > 64)");
        }
        var m = USER.matcher(value);
        // '..' as a whole user part is legal in Proxmox but would walk paths in our layouts
        if (!m.matches() || m.group(1).equals(".") || m.group(1).equals("..")) {
            return Optional.of("value '" + value + "' does not look like a valid user name");
        }
        return Optional.empty();
    }

    private static Optional<String> ip(String value) {
        if (IPV4.matcher(value).matches()) {
            return Optional.empty();
        }
        // a literal with ':' is parsed, never looked up
        if (value.contains(":") && value.matches("[0-9A-Fa-f:.]+")) {
            try {
                InetAddress.getByName(value);
                return Optional.empty();
            } catch (java.net.UnknownHostException e) {
                return Optional.of("value does not look like a valid IP address");
            }
        }
        return Optional.of("value does not look like a valid IP address");
    }
}
