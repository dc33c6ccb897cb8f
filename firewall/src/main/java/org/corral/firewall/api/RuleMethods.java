package org.corral.firewall.api;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.corral.core.api.ApiMethod;
import org.corral.core.api.ApiRequest;
import org.corral.core.config.Digest;
import org.corral.core.error.NotFound;
import org.corral.core.error.ParameterError;
import org.corral.core.schema.Formats;
import org.corral.core.schema.Schema;
import org.corral.firewall.FirewallService;
import org.corral.firewall.FwConfig;
import org.corral.firewall.FwOptions;
import org.corral.firewall.FwRule;
import org.corral.firewall.Macros;
import org.corral.firewall.RuleChecker;
import org.corral.firewall.RuleEnv;
import org.corral.firewall.RuleType;

/**
 * The five methods of one rule list (a tier's {@code rules} or a security group): list, create at
 * the top, read, update or move by {@code pos}, delete, each guarded by the list's digest.
 */
final class RuleMethods {
    /** How to reach a rule list inside its file. */
    interface Access {
        List<FwRule> get(FwConfig config, ApiRequest request);

        FwConfig set(FwConfig config, ApiRequest request, List<FwRule> rules);
    }

    private static final List<String> DELETABLE = FwRule.FIELDS;

    private final FirewallService fw;
    private final Scope scope;
    private final String path;
    private final RuleEnv env;
    private final Map<String, Schema> extraParams;
    private final Access access;

    RuleMethods(FirewallService fw, Scope scope, String path, RuleEnv env, Map<String, Schema> extraParams, Access access) {
        this.fw = requireNonNull(fw, "fw is null");
        this.scope = requireNonNull(scope, "scope is null");
        this.path = requireNonNull(path, "path is null");
        this.env = requireNonNull(env, "env is null");
        this.extraParams = Map.copyOf(extraParams);
        this.access = requireNonNull(access, "access is null");
    }

    static Schema digest() {
        return Schema.string().maxLength(64).optional().description(
                "Prevent changes if current configuration file has a different digest. This can be used to prevent concurrent modifications.");
    }

    private static Schema pos(String description) {
        return Schema.integer().minimum(0).description(description);
    }

    private ApiMethod declare(ApiMethod method) {
        scope.params(method);
        extraParams.forEach(method::parameter);
        return method;
    }

    private static void ruleParameters(ApiMethod method, boolean create) {
        Schema action = Schema.string().pattern("[A-Za-z][A-Za-z0-9\\-_]+").minLength(2).maxLength(20)
                .description("Rule action ('ACCEPT', 'DROP', 'REJECT') or security group name.");
        Schema type = Schema.string().enumValues("in", "out", "forward", "group").description("Rule type.");
        String address = "This can refer to a single IP address, an IP set ('+ipsetname') or an IP alias definition. You can also"
                + " specify an address range like '20.34.101.207-201.3.9.99', or a list of IP addresses and networks (entries are"
                + " separated by comma). Please do not mix IPv4 and IPv6 addresses inside such lists.";
        String ports = " You can use service names or simple numbers (0-65535), as defined in '/etc/services'. Port ranges can be"
                + " specified with '\\d+:\\d+', for example '80:85', and you can use comma separated list to match several ports or ranges.";
        method.parameter("action", create ? action : action.optional())
                .parameter("type", create ? type : type.optional())
                .parameter("comment", Schema.string().optional().description("Descriptive comment."))
                .parameter("dest", Schema.string().maxLength(512).optional().description("Restrict packet destination address. " + address))
                .parameter("digest", digest())
                .parameter("dport", Schema.string().optional().description("Restrict TCP/UDP destination port." + ports))
                .parameter("enable", Schema.integer().minimum(0).optional().description("Flag to enable/disable a rule."))
                .parameter("icmp-type", Schema.string().optional()
                        .description("Specify icmp-type. Only valid if proto equals 'icmp' or 'icmpv6'/'ipv6-icmp'."))
                .parameter("iface", Schema.string().minLength(2).maxLength(20).optional().description("Network interface name."
                        + " You have to use network configuration key names for VMs and containers ('net\\d+'). Host related rules can use arbitrary strings."))
                .parameter("log", Schema.string().enumValues(FwOptions.LOG_LEVELS).optional().description("Log level for firewall rule."))
                .parameter("macro", Schema.string().maxLength(128).optional().description("Use predefined standard macro."))
                .parameter("proto", Schema.string().optional().description(
                        "IP protocol. You can use protocol names ('tcp'/'udp') or simple numbers, as defined in '/etc/protocols'."))
                .parameter("source", Schema.string().maxLength(512).optional().description("Restrict packet source address. " + address))
                .parameter("sport", Schema.string().optional().description("Restrict TCP/UDP source port." + ports));
    }

    List<ApiMethod> methods() {
        ApiMethod create = declare(ApiMethod.post(path).name("create_rule")
                .description("Create new rule. As in Proxmox VE, it is inserted at the top (position 0); 'pos' is accepted and ignored.")
                .permission(scope.modify()))
                .parameter("pos", pos("Update rule at position <pos>.").optional())
                .handler(this::create);
        ruleParameters(create, true);
        ApiMethod update = declare(ApiMethod.put(path + "/{pos}").name("update_rule").description("Modify rule data.")
                .permission(scope.modify()))
                .parameter("pos", pos("Update rule at position <pos>."))
                .parameter("moveto", Schema.integer().minimum(0).optional()
                        .description("Move rule to new position <moveto>. Other arguments are ignored."))
                .parameter("delete", Schema.string().optional().description("A list of settings you want to delete."))
                .handler(this::update);
        ruleParameters(update, false);
        return List.of(
                declare(ApiMethod.get(path).name("get_rules").description("List rules.").permission(scope.audit()))
                        .returns(Schema.array(Schema.object().property("pos", Schema.integer())))
                        .handler(this::list),
                create,
                declare(ApiMethod.get(path + "/{pos}").name("get_rule").description("Get single rule data.").permission(scope.audit()))
                        .parameter("pos", pos("Update rule at position <pos>."))
                        .returns(Schema.object())
                        .handler(this::read),
                update,
                declare(ApiMethod.delete(path + "/{pos}").name("delete_rule").description("Delete rule.").permission(scope.modify()))
                        .parameter("pos", pos("Update rule at position <pos>."))
                        .parameter("digest", digest())
                        .handler(this::delete));
    }

    private static Map<String, Object> entry(FwRule rule) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("type", rule.type().apiName());
        out.put("action", rule.action());
        out.put("enable", rule.enabled() ? 1 : 0);
        out.putAll(rule.fields());
        return out;
    }

    static String digest(List<FwRule> rules) {
        return Digests.list(rules.stream().map(RuleMethods::entry).toList());
    }

    private List<FwRule> current(ApiRequest r) throws Exception {
        scope.exists().check(r);
        FwConfig config = fw.read(scope.file().apply(r), scope.kind()).config();
        return access.get(config, r);
    }

    private Object list(ApiRequest r) throws Exception {
        List<FwRule> rules = current(r);
        String digest = digest(rules);
        List<Map<String, Object>> out = new ArrayList<>();
        for (int pos = 0; pos < rules.size(); pos++) {
            Map<String, Object> e = entry(rules.get(pos));
            e.put("pos", pos);
            e.put("digest", digest);
            out.add(e);
        }
        return out;
    }

    private static int position(ApiRequest r, List<FwRule> rules) {
        int pos = (int) r.integer("pos");
        if (pos >= rules.size()) {
            throw new NotFound("no rule at position " + pos);
        }
        return pos;
    }

    private Object read(ApiRequest r) throws Exception {
        List<FwRule> rules = current(r);
        int pos = position(r, rules);
        Map<String, Object> e = entry(rules.get(pos));
        e.put("pos", pos);
        return e;
    }

    /** Rule values from the request over {@code base}: an empty value or '-' removes a field, as Proxmox's copy_rule_data. */
    private static FwRule apply(FwRule base, ApiRequest r) {
        Map<String, String> fields = new LinkedHashMap<>(base.fields());
        for (String name : FwRule.FIELDS) {
            r.optionalString(name).ifPresent(v -> {
                if (v.isEmpty() || v.equals("-")) {
                    fields.remove(name);
                } else {
                    fields.put(name, name.equals("comment") ? v.strip() : v);
                }
            });
        }
        // a macro is stored under its preferred spelling, as Proxmox's verify_rule does
        fields.computeIfPresent("macro", (k, v) -> Macros.standard().find(v).map(Macros.Macro::name).orElse(v));
        RuleType type = r.optionalString("type").map(t -> RuleType.parse(t).orElseThrow()).orElse(base.type());
        String action = r.optionalString("action").orElse(base.action());
        boolean enabled = r.optionalLong("enable").map(v -> v != 0).orElse(base.enabled());
        return FwRule.of(type, enabled, action, fields);
    }

    private void check(FwRule rule, FwConfig config) {
        Map<String, String> errors = RuleChecker.check(rule, env, Optional.of(scope.refs().apply(config)));
        if (!errors.isEmpty()) {
            throw new ParameterError(errors);
        }
    }

    /** A change of the rule list: the current file and rules in, the changed file out. */
    private interface Edit {
        FwConfig apply(FwConfig config, List<FwRule> rules);
    }

    /** Runs {@code edit} on the current rules once the owner exists and the caller's digest still matches. */
    private Object edit(ApiRequest r, Edit edit) throws Exception {
        scope.exists().check(r);
        fw.update(scope.file().apply(r), scope.kind(), config -> {
            List<FwRule> rules = access.get(config, r);
            Digest.check(r.optionalString("digest"), digest(rules));
            return edit.apply(config, rules);
        });
        return null;
    }

    private Object create(ApiRequest r) throws Exception {
        return edit(r, (config, rules) -> {
            FwRule blank = FwRule.of(RuleType.parse(r.string("type")).orElseThrow(), false, r.string("action"), Map.of());
            // a new rule is disabled unless the caller enables it, as in Proxmox
            FwRule rule = apply(blank, r);
            check(rule, config);
            List<FwRule> next = new ArrayList<>(rules);
            next.addFirst(rule);
            return access.set(config, r, next);
        });
    }

    private Object update(ApiRequest r) throws Exception {
        return edit(r, (config, rules) -> {
            int pos = position(r, rules);
            List<FwRule> next = new ArrayList<>();
            Optional<Long> moveto = r.optionalLong("moveto").filter(m -> m != pos);
            if (moveto.isPresent()) {
                // Proxmox's move: the rule goes before the one that was at <moveto>, or last
                for (int i = 0; i < rules.size(); i++) {
                    if (i == moveto.get()) {
                        next.add(rules.get(pos));
                    }
                    if (i != pos) {
                        next.add(rules.get(i));
                    }
                }
                if (moveto.get() >= rules.size()) {
                    next.add(rules.get(pos));
                }
                return access.set(config, r, next);
            }
            FwRule rule = apply(rules.get(pos), r);
            Map<String, String> fields = new LinkedHashMap<>(rule.fields());
            for (String name : Formats.splitList(r.optionalString("delete").orElse(""))) {
                if (!DELETABLE.contains(name)) {
                    throw new ParameterError("delete", "unable to delete required property '" + name + "'");
                }
                fields.remove(name);
            }
            rule = FwRule.of(rule.type(), rule.enabled(), rule.action(), fields);
            check(rule, config);
            next.addAll(rules);
            next.set(pos, rule);
            return access.set(config, r, next);
        });
    }

    private Object delete(ApiRequest r) throws Exception {
        return edit(r, (config, rules) -> {
            int pos = position(r, rules);
            List<FwRule> next = new ArrayList<>(rules);
            next.remove(pos);
            return access.set(config, r, next);
        });
    }
}
