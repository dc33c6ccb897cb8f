package org.corral.access.config;

import static java.util.Objects.requireNonNull;

import java.util.Collections;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * One {@code user:} line of user.cfg and the {@code token:} lines under it. Empty strings stand
 * for absent text fields; {@code expire} is seconds since the epoch, 0 for never.
 */
public record User(String userid, boolean enable, long expire, String firstname, String lastname, String email,
        String comment, String keys, SortedMap<String, ApiToken> tokens) {
    public User {
        requireNonNull(userid, "userid is null");
        requireNonNull(firstname, "firstname is null");
        requireNonNull(lastname, "lastname is null");
        requireNonNull(email, "email is null");
        requireNonNull(comment, "comment is null");
        requireNonNull(keys, "keys is null");
        TreeMap<String, ApiToken> copy = new TreeMap<>(ProxmoxText.BYTE_ORDER);
        copy.putAll(tokens);
        tokens = Collections.unmodifiableSortedMap(copy);
    }

    /** A new enabled user without any details. */
    public static User of(String userid) {
        return new User(userid, true, 0, "", "", "", "", "", new TreeMap<>());
    }

    /** Whether the account may be used at {@code nowSeconds}: enabled and not expired. */
    public boolean activeAt(long nowSeconds) {
        return enable && (expire == 0 || expire >= nowSeconds);
    }

    public User withEnable(boolean value) {
        return new User(userid, value, expire, firstname, lastname, email, comment, keys, tokens);
    }

    public User withExpire(long value) {
        return new User(userid, enable, value, firstname, lastname, email, comment, keys, tokens);
    }

    public User withFirstname(String value) {
        return new User(userid, enable, expire, value, lastname, email, comment, keys, tokens);
    }

    public User withLastname(String value) {
        return new User(userid, enable, expire, firstname, value, email, comment, keys, tokens);
    }

    public User withEmail(String value) {
        return new User(userid, enable, expire, firstname, lastname, value, comment, keys, tokens);
    }

    public User withComment(String value) {
        return new User(userid, enable, expire, firstname, lastname, email, value, keys, tokens);
    }

    public User withKeys(String value) {
        return new User(userid, enable, expire, firstname, lastname, email, comment, value, tokens);
    }

    public User withToken(ApiToken token) {
        TreeMap<String, ApiToken> copy = new TreeMap<>(tokens);
        copy.put(token.name(), token);
        return new User(userid, enable, expire, firstname, lastname, email, comment, keys, copy);
    }

    public User withoutToken(String name) {
        TreeMap<String, ApiToken> copy = new TreeMap<>(tokens);
        copy.remove(name);
        return new User(userid, enable, expire, firstname, lastname, email, comment, keys, copy);
    }
}
