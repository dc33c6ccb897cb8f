package org.corral.core.api;

import static java.util.Objects.requireNonNull;

import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.corral.core.access.AuthContext;
import org.corral.core.access.PermissionChecker;
import org.corral.core.access.Privilege;

/**
 * Who may call a method, as Proxmox's {@code permissions} clause: privileges on an ACL path
 * whose {@code {param}} parts come from the request, anyone logged in, no login at all, the
 * user named by a parameter, or a combination.
 */
public sealed interface Check {
    Pattern VARIABLE = Pattern.compile("\\{([a-z][a-z0-9_-]*)}");

    /** Whether the caller passes. {@code params} holds the request's raw parameter strings. */
    boolean allows(AuthContext auth, PermissionChecker checker, Map<String, String> params);

    /** Whether some caller without any privilege could be refused by this check. */
    boolean requiresPrivilege();

    /** What a refused caller is told: the path and privileges it lacks. */
    String describe(Map<String, String> params);

    /** All of {@code privileges} on the path; {@code {vmid}} and similar are filled from the request. */
    static Check path(String template, Privilege... privileges) {
        return new OnPath(template, EnumSet.copyOf(List.of(privileges)), false);
    }

    /** At least one of {@code privileges} on the path. */
    static Check pathAny(String template, Privilege... privileges) {
        return new OnPath(template, EnumSet.copyOf(List.of(privileges)), true);
    }

    /** Any authenticated user; the handler filters what the caller may see. */
    static Check authenticated() {
        return new Authenticated();
    }

    /** No authentication at all (the login call itself). */
    static Check anonymous() {
        return new Anonymous();
    }

    /** Only root@pam, as Proxmox's {@code user => 'root@pam'} (not root's tokens). */
    static Check rootOnly() {
        return new RootOnly();
    }

    /**
     * The user named by parameter {@code param} is the caller itself, logged in as that user: an API
     * token is not its user here, so a privilege-separated token cannot act on its user's account.
     */
    static Check self(String param) {
        return new Self(param);
    }

    static Check or(Check... checks) {
        return new Or(List.of(checks));
    }

    record OnPath(String template, Set<Privilege> privileges, boolean any) implements Check {
        public OnPath {
            requireNonNull(template, "template is null");
            privileges = Set.copyOf(privileges);
        }

        @Override
        public boolean allows(AuthContext auth, PermissionChecker checker, Map<String, String> params) {
            if (auth.isAnonymous()) {
                return false;
            }
            String path = expand(params);
            return any ? checker.hasAny(auth, path, privileges) : checker.hasAll(auth, path, privileges);
        }

        public String expand(Map<String, String> params) {
            Matcher m = VARIABLE.matcher(template);
            StringBuilder out = new StringBuilder();
            while (m.find()) {
                String value = params.getOrDefault(m.group(1), "");
                m.appendReplacement(out, Matcher.quoteReplacement(value));
            }
            m.appendTail(out);
            return out.toString();
        }

        @Override
        public boolean requiresPrivilege() {
            return true;
        }

        @Override
        public String describe(Map<String, String> params) {
            return expand(params) + ", " + String.join(any ? "|" : ", ",
                    privileges.stream().map(Privilege::proxmoxName).sorted().toList());
        }
    }

    record Authenticated() implements Check {
        @Override
        public boolean allows(AuthContext auth, PermissionChecker checker, Map<String, String> params) {
            return !auth.isAnonymous();
        }

        @Override
        public boolean requiresPrivilege() {
            return false;
        }

        @Override
        public String describe(Map<String, String> params) {
            return "authenticated user";
        }
    }

    record Anonymous() implements Check {
        @Override
        public boolean allows(AuthContext auth, PermissionChecker checker, Map<String, String> params) {
            return true;
        }

        @Override
        public boolean requiresPrivilege() {
            return false;
        }

        @Override
        public String describe(Map<String, String> params) {
            return "anyone";
        }
    }

    record RootOnly() implements Check {
        @Override
        public boolean allows(AuthContext auth, PermissionChecker checker, Map<String, String> params) {
            return auth.isRoot();
        }

        @Override
        public boolean requiresPrivilege() {
            return true;
        }

        @Override
        public String describe(Map<String, String> params) {
            return "root@pam only";
        }
    }

    record Self(String param) implements Check {
        @Override
        public boolean allows(AuthContext auth, PermissionChecker checker, Map<String, String> params) {
            return !auth.isAnonymous() && auth.tokenid().isEmpty() && auth.userid().equals(params.get(param));
        }

        @Override
        public boolean requiresPrivilege() {
            return true;
        }

        @Override
        public String describe(Map<String, String> params) {
            return "user '" + params.get(param) + "' itself";
        }
    }

    record Or(List<Check> checks) implements Check {
        public Or {
            checks = List.copyOf(checks);
        }

        @Override
        public boolean allows(AuthContext auth, PermissionChecker checker, Map<String, String> params) {
            return checks.stream().anyMatch(c -> c.allows(auth, checker, params));
        }

        @Override
        public boolean requiresPrivilege() {
            return checks.stream().allMatch(Check::requiresPrivilege);
        }

        @Override
        public String describe(Map<String, String> params) {
            return String.join(" or ", checks.stream().map(c -> c.describe(params)).toList());
        }
    }
}
