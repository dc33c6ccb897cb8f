package org.corral.access.realm;

import java.util.List;
import java.util.Set;
import org.corral.access.AuthenticationException;
import org.corral.access.Realm;
import org.corral.access.config.RealmConfig;

/**
 * The {@code openid} realm: users sign in at an OpenID Connect provider through
 * POST /access/openid/auth-url and /access/openid/login, never with a password here. The client
 * key is kept in priv/openid/REALM.key, not in domains.cfg.
 */
public final class OpenIdRealm implements Realm {
    /** Options besides comment, as Proxmox's OpenId plugin declares them (client-key lives in priv/). */
    private static final Set<String> OPTIONS = Set.of("issuer-url", "client-id", "autocreate", "username-claim", "prompt",
            "scopes", "acr-values", "default", "groups-claim", "groups-autocreate", "groups-overwrite", "query-userinfo");

    @Override
    public String type() {
        return "openid";
    }

    @Override
    public Set<String> options() {
        return OPTIONS;
    }

    @Override
    public List<String> requiredOptions() {
        return List.of("issuer-url", "client-id");
    }

    @Override
    public boolean keepsClientKey() {
        return true;
    }

    @Override
    public void authenticate(RealmConfig realm, String username, String password, String clientAddress) {
        throw new AuthenticationException("OpenID realm does not allow password verification");
    }
}
