package org.corral.access.realm;

import static java.util.Objects.requireNonNull;

import java.util.Optional;
import java.util.Set;
import org.corral.access.AuthenticationException;
import org.corral.access.PasswordHasher;
import org.corral.access.PasswordStore;
import org.corral.access.Realm;
import org.corral.access.config.RealmConfig;

/** The {@code pve} realm: users whose password hashes Corral keeps in priv/shadow.cfg. */
public final class PveRealm implements Realm {
    private final PasswordStore passwords;
    private final PasswordHasher hasher;

    public PveRealm(PasswordStore passwords, PasswordHasher hasher) {
        this.passwords = requireNonNull(passwords, "passwords is null");
        this.hasher = requireNonNull(hasher, "hasher is null");
    }

    @Override
    public String type() {
        return "pve";
    }

    @Override
    public Set<String> options() {
        return Set.of("default", "tfa");
    }

    @Override
    public void authenticate(RealmConfig realm, String username, String password, String clientAddress) {
        if (password.isEmpty()) {
            throw new AuthenticationException("no password");
        }
        Optional<String> hash = passwords.hash(username);
        if (hash.isEmpty()) {
            throw new AuthenticationException("no password set");
        }
        boolean matches;
        try {
            matches = hasher.verify(password, hash.get());
        } catch (IllegalArgumentException e) {
            throw new AuthenticationException(e.getMessage());
        }
        if (!matches) {
            throw new AuthenticationException("invalid credentials");
        }
    }

    @Override
    public void storePassword(RealmConfig realm, String username, String password) {
        passwords.setHash(username, hasher.hash(password));
    }

    @Override
    public void deleteUser(RealmConfig realm, String username) {
        passwords.remove(username);
    }
}
