package org.corral.access.tfa;

import static java.util.Objects.requireNonNull;

import java.util.OptionalLong;
import tools.jackson.databind.JsonNode;

/**
 * One second factor of a user in priv/tfa.cfg: its type ({@code totp}, {@code webauthn},
 * {@code yubico}, {@code u2f}), id, description, creation time, whether it may be used, and what
 * Proxmox keeps as its {@code entry} (the otpauth URI, the Yubikey id, the WebAuthn credential).
 * {@code lastStep} is the last TOTP time step that logged in, so a code is good only once.
 */
public record TfaEntry(String type, String id, String description, long created, boolean enable, JsonNode entry,
        OptionalLong lastStep) {
    public TfaEntry {
        requireNonNull(type, "type is null");
        requireNonNull(id, "id is null");
        requireNonNull(description, "description is null");
        requireNonNull(entry, "entry is null");
        requireNonNull(lastStep, "lastStep is null");
    }

    public TfaEntry withDescription(String value) {
        return new TfaEntry(type, id, value, created, enable, entry, lastStep);
    }

    public TfaEntry withEnable(boolean value) {
        return new TfaEntry(type, id, description, created, value, entry, lastStep);
    }

    public TfaEntry withLastStep(long step) {
        return new TfaEntry(type, id, description, created, enable, entry, OptionalLong.of(step));
    }

    @Override
    public String toString() {
        // the entry holds the secret
        return "TfaEntry[" + type + " " + id + "]";
    }
}
