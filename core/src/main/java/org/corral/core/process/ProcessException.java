package org.corral.core.process;

import java.util.Optional;
import org.corral.core.error.ApiException;

/**
 * A host program failed, timed out, could not start or was interrupted; HTTP 500 with the
 * program's own error text, which is what an administrator needs to see.
 */
public final class ProcessException extends ApiException {
    private final transient ProcessResult result;

    public ProcessException(ProcessResult result) {
        super(500, result.describeFailure());
        this.result = result;
    }

    public ProcessException(String message, Throwable cause) {
        super(500, message, cause);
        this.result = null;
    }

    /** What the program left, when it ran to an end (failed or timed out). */
    public Optional<ProcessResult> result() {
        return Optional.ofNullable(result);
    }

    /** The program's exit code, -1 when it did not exit on its own. */
    public int exitCode() {
        return result == null || result.timedOut() ? -1 : result.exitCode();
    }
}
