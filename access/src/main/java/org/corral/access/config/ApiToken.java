package org.corral.access.config;

import static java.util.Objects.requireNonNull;

/**
 * One {@code token:} line of user.cfg: an API token of a user. With {@code privsep} its
 * privileges are cut down to its own ACL entries; {@code expire} 0 means never.
 */
public record ApiToken(String name, long expire, boolean privsep, String comment) {
    public ApiToken {
        requireNonNull(name, "name is null");
        requireNonNull(comment, "comment is null");
    }

    public boolean expiredAt(long nowSeconds) {
        return expire != 0 && expire < nowSeconds;
    }

    public String fullId(String userid) {
        return userid + "!" + name;
    }
}
