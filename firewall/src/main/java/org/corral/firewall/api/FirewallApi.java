package org.corral.firewall.api;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.corral.core.access.Privilege;
import org.corral.core.api.ApiMethod;
import org.corral.core.api.ApiModule;
import org.corral.core.api.ApiRequest;
import org.corral.core.api.Check;
import org.corral.core.config.Digest;
import org.corral.core.error.ApiException;
import org.corral.core.error.NotFound;
import org.corral.core.error.ParameterError;
import org.corral.core.guest.GuestIds;
import org.corral.core.schema.Formats;
import org.corral.core.schema.Schema;
import org.corral.firewall.Alias;
import org.corral.firewall.FirewallService;
import org.corral.firewall.FwConfig;
import org.corral.firewall.FwKind;
import org.corral.firewall.FwOptions;
import org.corral.firewall.FwRule;
import org.corral.firewall.IpSet;
import org.corral.firewall.Macros;
import org.corral.firewall.RuleChecker;
import org.corral.firewall.RuleEnv;
import org.corral.firewall.SecurityGroup;

/**
 * Proxmox VE's firewall API over the {@code .fw} files: {@code /cluster/firewall},
 * {@code /nodes/{node}/firewall} and {@code /nodes/{node}/{qemu,lxc}/{vmid}/firewall}.
 * Enforcement is {@link org.corral.firewall.nft.FirewallEnforcer}'s; {@code .../firewall/log} is
 * {@link LogApi}'s and {@code /nodes/{node}/firewall/simulate} {@link SimulateApi}'s.
 */
public final class FirewallApi implements ApiModule {
    private final FirewallService fw;

    public FirewallApi(FirewallService fw) {
        this.fw = requireNonNull(fw, "fw is null");
    }

    private static Schema nodeSchema() {
        return Schema.string().format(Formats.PVE_NODE).description("The cluster node name.");
    }

    private static Schema vmidSchema() {
        return Schema.integer().format(Formats.PVE_VMID).description("The (unique) ID of the VM.");
    }

    private Scope cluster() {
        return new Scope("/cluster/firewall", FwKind.CLUSTER, RuleEnv.CLUSTER, Check.path("/", Privilege.SYS_AUDIT),
                Check.path("/", Privilege.SYS_MODIFY), Map.of(), r -> FirewallService.CLUSTER_FILE, r -> {},
                config -> new RuleChecker.References(config, Optional.empty()), "dc");
    }

    private Scope host() {
        return new Scope("/nodes/{node}/firewall", FwKind.HOST, RuleEnv.HOST, Check.path("/nodes/{node}", Privilege.SYS_AUDIT),
                Check.path("/nodes/{node}", Privilege.SYS_MODIFY), Map.of("node", nodeSchema()),
                r -> FirewallService.hostFile(r.string("node")), r -> {},
                config -> new RuleChecker.References(fw.cluster(), Optional.empty()), "host");
    }

    private Scope guest(GuestIds.Kind kind) {
        String type = kind == GuestIds.Kind.QEMU ? "qemu" : "lxc";
        return new Scope("/nodes/{node}/" + type + "/{vmid}/firewall", FwKind.GUEST, kind == GuestIds.Kind.QEMU ? RuleEnv.VM : RuleEnv.CT,
                Check.path("/vms/{vmid}", Privilege.VM_AUDIT), Check.path("/vms/{vmid}", Privilege.VM_CONFIG_NETWORK),
                Map.of("node", nodeSchema(), "vmid", vmidSchema()), r -> FirewallService.guestFile(r.vmId("vmid")),
                r -> requireGuest(r, kind), config -> new RuleChecker.References(fw.cluster(), Optional.of(config)), "guest");
    }

    /** The guest must exist on that node as that kind, as Proxmox loads its config first. */
    private void requireGuest(ApiRequest r, GuestIds.Kind kind) {
        String path = GuestIds.path(r.string("node"), kind, r.vmId("vmid"));
        if (fw.store().read(path).isEmpty()) {
            throw new NotFound("Configuration file '" + path + "' does not exist");
        }
    }

    @Override
    public List<ApiMethod> methods() {
        List<ApiMethod> all = new ArrayList<>();
        Scope cluster = cluster();
        all.add(ApiMethod.get(cluster.base()).name("index").description("Directory index.").permission(Check.authenticated())
                .directoryIndex("name"));
        all.addAll(options(cluster));
        all.addAll(new RuleMethods(fw, cluster, cluster.base() + "/rules", RuleEnv.CLUSTER, Map.of(), topRules()).methods());
        all.addAll(groups(cluster));
        all.addAll(new IpSetMethods(fw, cluster).methods());
        all.addAll(new AliasMethods(fw, cluster).methods());
        all.add(ApiMethod.get(cluster.base() + "/macros").name("get_macros").description("List available macros")
                .permission(Check.authenticated())
                .returns(Schema.array(Schema.object().property("macro", Schema.string()).property("descr", Schema.string())))
                .handler(r -> Macros.standard().all().stream().map(m -> Map.of("macro", m.name(), "descr", m.description())).toList()));
        all.add(refs(cluster));

        Scope host = host();
        all.add(host.params(ApiMethod.get(host.base()).name("index").description("Directory index.").permission(Check.authenticated()))
                .directoryIndex("name"));
        all.addAll(options(host));
        all.addAll(new RuleMethods(fw, host, host.base() + "/rules", RuleEnv.HOST, Map.of(), topRules()).methods());

        for (GuestIds.Kind kind : GuestIds.Kind.values()) {
            Scope guest = guest(kind);
            all.add(guest.params(ApiMethod.get(guest.base()).name("index").description("Directory index.")
                    .permission(Check.authenticated())).directoryIndex("name", guest.exists()));
            all.addAll(options(guest));
            all.addAll(new RuleMethods(fw, guest, guest.base() + "/rules", guest.env(), Map.of(), topRules()).methods());
            all.addAll(new IpSetMethods(fw, guest).methods());
            all.addAll(new AliasMethods(fw, guest).methods());
            all.add(refs(guest));
        }
        return all;
    }

    private static RuleMethods.Access topRules() {
        return new RuleMethods.Access() {
            @Override
            public List<FwRule> get(FwConfig config, ApiRequest request) {
                return config.rules();
            }

            @Override
            public FwConfig set(FwConfig config, ApiRequest request, List<FwRule> rules) {
                return config.withRules(rules);
            }
        };
    }

    // ---- options

    private List<ApiMethod> options(Scope scope) {
        FwOptions options = scope.kind().options();
        ApiMethod set = scope.params(ApiMethod.put(scope.base() + "/options").name("set_options").description("Set Firewall options.")
                .permission(scope.modify()))
                .parameter("delete", Schema.string().optional().description("A list of settings you want to delete."))
                .parameter("digest", RuleMethods.digest())
                .handler(r -> setOptions(scope, r));
        Schema answer = Schema.object();
        options.schemas().forEach((name, schema) -> {
            set.parameter(name, schema);
            answer.property(name, schema);
        });
        return List.of(
                scope.params(ApiMethod.get(scope.base() + "/options").name("get_options").description("Get Firewall options.")
                        .permission(scope.audit()))
                        .returns(answer)
                        .handler(r -> getOptions(scope, r)),
                set);
    }

    private static Map<String, Object> optionAnswer(FwOptions options, FwConfig config) {
        Map<String, Object> out = new LinkedHashMap<>();
        config.options().forEach((name, value) -> out.put(name, options.answer(name, value)));
        return out;
    }

    private Object getOptions(Scope scope, ApiRequest r) throws Exception {
        scope.exists().check(r);
        FwOptions options = scope.kind().options();
        Map<String, Object> out = optionAnswer(options, fw.read(scope.file().apply(r), scope.kind()).config());
        out.put("digest", Digests.object(out));
        return out;
    }

    private Object setOptions(Scope scope, ApiRequest r) throws Exception {
        scope.exists().check(r);
        FwOptions options = scope.kind().options();
        List<String> delete = Formats.splitList(r.optionalString("delete").orElse(""));
        for (String name : delete) {
            if (!options.schemas().containsKey(name)) {
                throw new ParameterError("delete", "invalid option '" + name + "'");
            }
            if (r.has(name)) {
                throw new ParameterError("delete", "cannot set and delete option '" + name + "' at the same time");
            }
        }
        fw.update(scope.file().apply(r), scope.kind(), config -> {
            Digest.check(r.optionalString("digest"), Digests.object(optionAnswer(options, config)));
            Map<String, String> next = new LinkedHashMap<>(config.options());
            delete.forEach(next::remove);
            options.schemas().keySet().stream().filter(r::has).forEach(name -> next.put(name, options.stored(name, r.params().get(name))));
            return config.withOptions(next);
        });
        return null;
    }

    // ---- security groups

    private static Schema groupName(String description) {
        return Digests.name(RuleChecker.GROUP_NAME_MAX, description);
    }

    private static SecurityGroup group(FwConfig config, String name) {
        return config.group(name).orElseThrow(() -> new NotFound("no such security group '" + name + "'"));
    }

    private static FwConfig replaceGroup(FwConfig config, String name, SecurityGroup group) {
        List<SecurityGroup> groups = new ArrayList<>(config.groups().stream().filter(g -> !g.name().equals(name)).toList());
        if (group != null) {
            groups.add(group);
        }
        return config.withGroups(groups);
    }

    private static List<Map<String, Object>> groupList(FwConfig config) {
        return config.groups().stream().sorted(Comparator.comparing(SecurityGroup::name)).map(g -> {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("group", g.name());
            g.comment().ifPresent(c -> e.put("comment", c));
            return e;
        }).toList();
    }

    private List<ApiMethod> groups(Scope cluster) {
        String base = cluster.base() + "/groups";
        RuleMethods.Access groupRules = new RuleMethods.Access() {
            @Override
            public List<FwRule> get(FwConfig config, ApiRequest request) {
                return group(config, request.string("group")).rules();
            }

            @Override
            public FwConfig set(FwConfig config, ApiRequest request, List<FwRule> rules) {
                SecurityGroup old = group(config, request.string("group"));
                return replaceGroup(config, old.name(), new SecurityGroup(old.name(), old.comment(), rules));
            }
        };
        List<ApiMethod> methods = new ArrayList<>(List.of(
                ApiMethod.get(base).name("list_security_groups").description("List security groups.").permission(Check.path("/", Privilege.SYS_AUDIT))
                        .returns(Schema.array(Schema.object().property("group", Schema.string())))
                        .handler(r -> Digests.withDigest(groupList(fw.cluster()))),
                ApiMethod.post(base).name("create_security_group").description("Create new security group.")
                        .permission(cluster.modify())
                        .parameter("group", groupName("Security Group name."))
                        .parameter("comment", Schema.string().optional())
                        .parameter("digest", RuleMethods.digest())
                        .parameter("rename", groupName("Rename/update an existing security group. You can set 'rename' to the same"
                                + " value as 'name' to update the 'comment' of an existing group.").optional())
                        .handler(this::createGroup),
                ApiMethod.delete(base + "/{group}").name("delete_security_group").description("Delete security group.")
                        .permission(cluster.modify())
                        .parameter("group", groupName("Security Group name."))
                        .handler(r -> {
                            fw.update(FirewallService.CLUSTER_FILE, FwKind.CLUSTER, config -> {
                                SecurityGroup group = group(config, r.string("group"));
                                if (!group.rules().isEmpty()) {
                                    throw new ApiException(500, "Security group '" + r.string("group") + "' is not empty");
                                }
                                return replaceGroup(config, group.name(), null);
                            });
                            return null;
                        })));
        methods.addAll(new RuleMethods(fw, cluster, base + "/{group}", RuleEnv.GROUP,
                Map.of("group", groupName("Security Group name.")), groupRules).methods());
        return methods;
    }

    private Object createGroup(ApiRequest r) {
        String name = r.string("group").toLowerCase(Locale.ROOT);
        Optional<String> comment = r.optionalString("comment").map(String::strip).filter(c -> !c.isEmpty());
        fw.update(FirewallService.CLUSTER_FILE, FwKind.CLUSTER, config -> {
            Optional<String> rename = r.optionalString("rename").map(n -> n.toLowerCase(Locale.ROOT));
            if (rename.isPresent()) {
                Digest.check(r.optionalString("digest"), Digests.list(groupList(config)));
                SecurityGroup old = config.group(rename.get()).orElseThrow(() ->
                        new ParameterError("group", "Security group '" + r.string("rename") + "' does not exist"));
                if (config.group(name).isPresent() && !name.equals(old.name())) {
                    throw new ParameterError("group", "Security group '" + name + "' does already exist");
                }
                return replaceGroup(replaceGroup(config, old.name(), null), name,
                        new SecurityGroup(name, comment.or(old::comment), old.rules()));
            }
            if (config.group(name).isPresent()) {
                throw new ParameterError("group", "Security group '" + name + "' already exists");
            }
            return replaceGroup(config, name, new SecurityGroup(name, comment, List.of()));
        });
        return null;
    }

    // ---- refs

    private ApiMethod refs(Scope scope) {
        return scope.params(ApiMethod.get(scope.base() + "/refs").name("refs")
                        .description("Lists possible IPSet/Alias reference which are allowed in source/dest properties.")
                        .permission(scope.audit()))
                .parameter("type", Schema.string().enumValues("alias", "ipset").optional().description("Only list references of specified type."))
                .returns(Schema.array(Schema.object().property("ref", Schema.string())))
                .handler(r -> {
                    scope.exists().check(r);
                    Optional<String> type = r.optionalString("type");
                    List<Map<String, Object>> out = new ArrayList<>();
                    if (scope.kind() == FwKind.GUEST) {
                        out.addAll(collectRefs(fw.read(scope.file().apply(r), scope.kind()).config(), type, "guest"));
                    }
                    out.addAll(collectRefs(fw.cluster(), type, "dc"));
                    return out;
                });
    }

    private static List<Map<String, Object>> collectRefs(FwConfig config, Optional<String> type, String scope) {
        List<Map<String, Object>> out = new ArrayList<>();
        if (type.isEmpty() || type.get().equals("ipset")) {
            for (IpSet set : config.ipsets()) {
                out.add(ref("ipset", set.name(), "+" + scope + "/" + set.name(), scope, set.comment()));
            }
        }
        if (type.isEmpty() || type.get().equals("alias")) {
            for (Alias alias : config.aliases()) {
                out.add(ref("alias", alias.key(), scope + "/" + alias.key(), scope, alias.comment()));
            }
        }
        return out;
    }

    private static Map<String, Object> ref(String type, String name, String ref, String scope, Optional<String> comment) {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("type", type);
        e.put("name", name);
        e.put("ref", ref);
        e.put("scope", scope);
        comment.ifPresent(c -> e.put("comment", c));
        return e;
    }
}
