package org.corral.firewall.api;

import static java.util.Objects.requireNonNull;

import java.util.Map;
import java.util.function.Function;
import org.corral.core.api.ApiMethod;
import org.corral.core.api.ApiRequest;
import org.corral.core.api.Check;
import org.corral.core.schema.Schema;
import org.corral.firewall.FwConfig;
import org.corral.firewall.FwKind;
import org.corral.firewall.RuleChecker;
import org.corral.firewall.RuleEnv;

/**
 * One firewall tier as the API reaches it: its base path and path parameters, its file, who may
 * read and change it, the check that its owner exists, and the IP sets and aliases its rules see.
 */
record Scope(String base, FwKind kind, RuleEnv env, Check audit, Check modify, Map<String, Schema> pathParams,
        Function<ApiRequest, String> file, ApiMethod.ApiRequestCheck exists,
        Function<FwConfig, RuleChecker.References> refs, String refScope) {
    Scope {
        requireNonNull(base, "base is null");
        requireNonNull(kind, "kind is null");
        requireNonNull(env, "env is null");
        requireNonNull(audit, "audit is null");
        requireNonNull(modify, "modify is null");
        pathParams = Map.copyOf(pathParams);
        requireNonNull(file, "file is null");
        requireNonNull(exists, "exists is null");
        requireNonNull(refs, "refs is null");
        requireNonNull(refScope, "refScope is null");
    }

    /** Declares the scope's path parameters on {@code method}. */
    ApiMethod params(ApiMethod method) {
        pathParams.forEach(method::parameter);
        return method;
    }
}
