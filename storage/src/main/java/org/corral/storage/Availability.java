package org.corral.storage;

import static java.util.Objects.requireNonNull;

import java.util.Optional;

/** Whether a storage can be used on this node now, and if not, why. */
public record Availability(boolean active, Optional<String> reason) {
    public Availability {
        requireNonNull(reason, "reason is null");
        if (active == reason.isPresent()) {
            throw new IllegalArgumentException("an inactive storage needs a reason, an active one has none");
        }
    }

    public static Availability ok() {
        return new Availability(true, Optional.empty());
    }

    public static Availability inactive(String reason) {
        return new Availability(false, Optional.of(requireNonNull(reason, "reason is null")));
    }
}
