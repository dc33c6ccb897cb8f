package org.corral.core.access;

import static java.util.Objects.requireNonNull;

import java.util.Optional;

/**
 * Who makes a call: a user ({@code user@realm}), optionally through one of its API tokens
 * ({@code user@realm!tokenid}). An anonymous context has no user.
 */
public record AuthContext(String userid, Optional<String> tokenid, String clientAddress) {
    public static final String ROOT = "root@pam";

    public AuthContext {
        requireNonNull(userid, "userid is null");
        requireNonNull(tokenid, "tokenid is null");
        requireNonNull(clientAddress, "clientAddress is null");
    }

    public static AuthContext anonymous(String clientAddress) {
        return new AuthContext("", Optional.empty(), clientAddress);
    }

    public static AuthContext user(String userid, String clientAddress) {
        return new AuthContext(userid, Optional.empty(), clientAddress);
    }

    public boolean isAnonymous() {
        return userid.isEmpty();
    }

    /** The id ACLs are looked up for: the token's full id when a token is used, else the user. */
    public String authid() {
        return tokenid.orElse(userid);
    }

    public boolean isRoot() {
        return ROOT.equals(userid) && tokenid.isEmpty();
    }
}
