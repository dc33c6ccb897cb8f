package org.corral.access;

import java.util.Optional;

/** The password hashes of the pve realm (priv/shadow.cfg), by user name without realm. */
public interface PasswordStore {
    Optional<String> hash(String username);

    /** Sets the hash with a compare-and-set write of the file. */
    void setHash(String username, String hash);

    /** Removes the entry; returns the removed hash, if there was one. */
    Optional<String> remove(String username);
}
