package org.corral.core.error;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/** HTTP 400 with one message per bad parameter, as Proxmox answers a failed validation. */
public final class ParameterError extends ApiException {
    private final Map<String, String> errors;

    public ParameterError(String parameter, String message) {
        this(Map.of(parameter, message));
    }

    public ParameterError(Map<String, String> errors) {
        super(400, summary(errors));
        if (errors.isEmpty()) {
            throw new IllegalArgumentException("a parameter error needs at least one parameter");
        }
        this.errors = Collections.unmodifiableMap(new LinkedHashMap<>(errors));
    }

    private static String summary(Map<String, String> errors) {
        StringBuilder text = new StringBuilder("Parameter verification failed.");
        errors.forEach((k, v) -> text.append(' ').append(k).append(": ").append(v));
        return text.toString();
    }

    @Override
    public Map<String, String> errors() {
        return errors;
    }
}
