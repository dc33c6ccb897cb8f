package org.corral.access;

/**
 * A failed credential check. The message says why, for the log only: clients are told no more
 * than "authentication failure", so that they can't probe which users exist.
 */
public class AuthenticationException extends RuntimeException {
    public AuthenticationException(String reason) {
        super(reason);
    }
}
