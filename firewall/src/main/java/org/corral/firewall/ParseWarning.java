package org.corral.firewall;

import static java.util.Objects.requireNonNull;

/** A line of a {@code .fw} file that was skipped, with where it is and why. */
public record ParseWarning(String file, int line, String message) {
    public ParseWarning {
        requireNonNull(file, "file is null");
        requireNonNull(message, "message is null");
    }

    @Override
    public String toString() {
        return file + " (line " + line + "): " + message;
    }
}
