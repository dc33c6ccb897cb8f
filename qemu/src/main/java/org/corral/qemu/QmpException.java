package org.corral.qemu;

import java.util.Optional;

/** A QMP or guest agent command failed: QEMU's error class and description, a timeout, or a lost connection. */
public class QmpException extends RuntimeException {
    private final Optional<String> errorClass;

    public QmpException(String message) {
        super(message);
        this.errorClass = Optional.empty();
    }

    public QmpException(String message, Throwable cause) {
        super(message, cause);
        this.errorClass = Optional.empty();
    }

    public QmpException(String errorClass, String message) {
        super(message);
        this.errorClass = Optional.of(errorClass);
    }

    /** QEMU's {@code class} ({@code GenericError}, {@code CommandNotFound}, ...) when QEMU answered with an error. */
    public Optional<String> errorClass() {
        return errorClass;
    }

    /** No answer within the timeout. */
    public static final class Timeout extends QmpException {
        public Timeout(String message) {
            super(message);
        }
    }
}
