package org.corral.access.tfa;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.UnaryOperator;

/**
 * A user's second factors in priv/tfa.cfg, with the lock state Proxmox keeps there
 * ({@code totp-locked}, {@code tfa-locked-until}) and the failure counts that lead to it.
 */
public record TfaUser(List<TfaEntry> entries, Optional<Recovery> recovery, boolean totpLocked, OptionalLong tfaLockedUntil,
        int totpFailures, int tfaFailures) {
    public static final TfaUser EMPTY = new TfaUser(List.of(), Optional.empty(), false, OptionalLong.empty(), 0, 0);

    public TfaUser {
        entries = Collections.unmodifiableList(new ArrayList<>(entries));
        requireNonNull(recovery, "recovery is null");
        requireNonNull(tfaLockedUntil, "tfaLockedUntil is null");
    }

    public Optional<TfaEntry> entry(String id) {
        return entries.stream().filter(e -> e.id().equals(id)).findFirst();
    }

    /** Whether the user has anything that makes a login ask for a second factor. */
    public boolean hasFactors() {
        return entries.stream().anyMatch(TfaEntry::enable) || recovery.isPresent();
    }

    public boolean isEmpty() {
        return entries.isEmpty() && recovery.isEmpty() && !totpLocked && tfaLockedUntil.isEmpty() && totpFailures == 0
                && tfaFailures == 0;
    }

    public TfaUser withEntries(UnaryOperator<List<TfaEntry>> change) {
        return new TfaUser(change.apply(new ArrayList<>(entries)), recovery, totpLocked, tfaLockedUntil, totpFailures, tfaFailures);
    }

    public TfaUser withRecovery(Optional<Recovery> value) {
        return new TfaUser(entries, value, totpLocked, tfaLockedUntil, totpFailures, tfaFailures);
    }

    public TfaUser withLocks(boolean totp, OptionalLong until, int totpCount, int tfaCount) {
        return new TfaUser(entries, recovery, totp, until, totpCount, tfaCount);
    }
}
