package org.corral.access;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Proxmox's user, token, group, role and realm identifiers: {@code name@realm}, {@code name@realm!token}. */
public final class Ids {
    public static final String REALM_REGEX = "[A-Za-z][A-Za-z0-9.\\-_]+";
    public static final String USER_REGEX = "[^\\s:/]+";
    public static final String TOKEN_SUBID_REGEX = REALM_REGEX;

    private static final Pattern USERID = Pattern.compile("(" + USER_REGEX + ")@(" + REALM_REGEX + ")");
    private static final Pattern TOKENID = Pattern.compile("((" + USER_REGEX + ")@(" + REALM_REGEX + "))!(" + TOKEN_SUBID_REGEX + ")");
    private static final Pattern GROUP = Pattern.compile("[A-Za-z0-9.\\-_]+");
    private static final Pattern ROLE = GROUP;
    private static final Pattern REALM = Pattern.compile(REALM_REGEX);
    private static final Pattern POOL = Pattern.compile("[A-Za-z0-9.\\-_]+(/[A-Za-z0-9.\\-_]+){0,2}");
    private static final Pattern STORAGE = Pattern.compile("(?i)[a-z][a-z0-9\\-_.]*[a-z0-9]");

    private Ids() {}

    /** A user id split into its parts. */
    public record UserId(String userid, String name, String realm) {}

    /** A full token id split into the owning user and the token's own name. */
    public record TokenId(String tokenid, String userid, String name) {}

    /** Proxmox's {@code verify_username}: 3 to 64 characters, {@code name@realm}. */
    public static Optional<UserId> user(String userid) {
        if (userid == null || userid.length() < 3 || userid.length() > 64) {
            return Optional.empty();
        }
        Matcher m = USERID.matcher(userid);
        if (!m.matches()) {
            return Optional.empty();
        }
        return Optional.of(new UserId(userid, m.group(1), m.group(2)));
    }

    public static boolean isUser(String userid) {
        return user(userid).isPresent();
    }

    /** Proxmox's {@code split_tokenid}. */
    public static Optional<TokenId> token(String tokenid) {
        if (tokenid == null) {
            return Optional.empty();
        }
        Matcher m = TOKENID.matcher(tokenid);
        if (!m.matches()) {
            return Optional.empty();
        }
        return Optional.of(new TokenId(tokenid, m.group(1), m.group(4)));
    }

    public static boolean isTokenName(String name) {
        return name != null && REALM.matcher(name).matches();
    }

    public static boolean isGroup(String group) {
        return group != null && GROUP.matcher(group).matches();
    }

    public static boolean isRole(String role) {
        return role != null && ROLE.matcher(role).matches();
    }

    public static boolean isRealm(String realm) {
        return realm != null && REALM.matcher(realm).matches();
    }

    public static boolean isPool(String pool) {
        return pool != null && POOL.matcher(pool).matches();
    }

    public static boolean isStorage(String storage) {
        return storage != null && STORAGE.matcher(storage).matches();
    }

    /** The realm part of a user id ({@code pam} of {@code root@pam}). */
    public static String realmOf(String userid) {
        return userid.substring(userid.lastIndexOf('@') + 1);
    }
}
