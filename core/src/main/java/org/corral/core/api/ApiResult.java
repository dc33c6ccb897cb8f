package org.corral.core.api;

import static java.util.Objects.requireNonNull;

import java.util.Map;

/** An answer's {@code data} plus extra top-level fields, as Proxmox adds {@code total} to task logs. */
public record ApiResult(Object data, Map<String, Object> extras) {
    public ApiResult {
        requireNonNull(extras, "extras is null");
        extras = Map.copyOf(extras);
    }
}
