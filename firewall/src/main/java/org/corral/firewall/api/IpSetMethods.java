package org.corral.firewall.api;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.corral.core.api.ApiMethod;
import org.corral.core.api.ApiRequest;
import org.corral.core.config.Digest;
import org.corral.core.error.ApiException;
import org.corral.core.error.NotFound;
import org.corral.core.error.ParameterError;
import org.corral.core.schema.Schema;
import org.corral.firewall.FirewallService;
import org.corral.firewall.FwConfig;
import org.corral.firewall.IpSet;
import org.corral.firewall.IpSetEntry;
import org.corral.firewall.IpSets;
import org.corral.firewall.RuleChecker;

/** {@code .../ipset}: a tier's IP sets and their entries, with Proxmox's names, answers and errors. */
final class IpSetMethods {
    private final FirewallService fw;
    private final Scope scope;

    IpSetMethods(FirewallService fw, Scope scope) {
        this.fw = requireNonNull(fw, "fw is null");
        this.scope = requireNonNull(scope, "scope is null");
    }

    private static Schema name(String description) {
        return Digests.name(RuleChecker.IPSET_NAME_MAX, description);
    }

    private ApiMethod declare(ApiMethod method) {
        return scope.params(method);
    }

    List<ApiMethod> methods() {
        String base = scope.base() + "/ipset";
        Schema cidrPath = Schema.string().description("Network/IP specification in CIDR format.");
        return List.of(
                declare(ApiMethod.get(base).name("ipset_index").description("List IPSets").permission(scope.audit()))
                        .returns(Schema.array(Schema.object().property("name", Schema.string())))
                        .handler(this::index),
                declare(ApiMethod.post(base).name("create_ipset").description("Create new IPSet").permission(scope.modify()))
                        .parameter("name", name("IP set name."))
                        .parameter("comment", Schema.string().optional())
                        .parameter("digest", RuleMethods.digest())
                        .parameter("rename", name("Rename an existing IPSet. You can set 'rename' to the same value as 'name'"
                                + " to update the 'comment' of an existing IPSet.").optional())
                        .handler(this::create),
                declare(ApiMethod.get(base + "/{name}").name("get_ipset").description("List IPSet content").permission(scope.audit()))
                        .parameter("name", name("IP set name."))
                        .returns(Schema.array(Schema.object().property("cidr", Schema.string())))
                        .handler(this::content),
                declare(ApiMethod.post(base + "/{name}").name("create_ip").description("Add IP or Network to IPSet.").permission(scope.modify()))
                        .parameter("name", name("IP set name."))
                        .parameter("cidr", cidrPath)
                        .parameter("comment", Schema.string().optional())
                        .parameter("nomatch", Schema.bool().optional())
                        .handler(this::add),
                declare(ApiMethod.delete(base + "/{name}").name("delete_ipset").description("Delete IPSet").permission(scope.modify()))
                        .parameter("name", name("IP set name."))
                        .parameter("force", Schema.bool().optional().description("Delete all members of the IPSet, if there are any."))
                        .handler(this::deleteSet),
                declare(ApiMethod.get(base + "/{name}/{cidr}").name("read_ip").description("Read IP or Network settings from IPSet.")
                        .permission(scope.audit()))
                        .lastVariableTakesRestOfPath()
                        .parameter("name", name("IP set name."))
                        .parameter("cidr", cidrPath)
                        .returns(Schema.object())
                        .handler(this::readEntry),
                declare(ApiMethod.put(base + "/{name}/{cidr}").name("update_ip").description("Update IP or Network settings")
                        .permission(scope.modify()))
                        .lastVariableTakesRestOfPath()
                        .parameter("name", name("IP set name."))
                        .parameter("cidr", cidrPath)
                        .parameter("comment", Schema.string().optional())
                        .parameter("nomatch", Schema.bool().optional())
                        .parameter("digest", RuleMethods.digest())
                        .handler(this::updateEntry),
                declare(ApiMethod.delete(base + "/{name}/{cidr}").name("remove_ip").description("Remove IP or Network from IPSet.")
                        .permission(scope.modify()))
                        .lastVariableTakesRestOfPath()
                        .parameter("name", name("IP set name."))
                        .parameter("cidr", cidrPath)
                        .parameter("digest", RuleMethods.digest())
                        .handler(this::removeEntry));
    }

    private FwConfig read(ApiRequest r) throws Exception {
        scope.exists().check(r);
        return fw.read(scope.file().apply(r), scope.kind()).config();
    }

    private static List<Map<String, Object>> setList(FwConfig config) {
        return config.ipsets().stream().sorted(Comparator.comparing(IpSet::name)).map(set -> {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("name", set.name());
            set.comment().ifPresent(c -> e.put("comment", c));
            return e;
        }).toList();
    }

    private static List<Map<String, Object>> entryList(IpSet set) {
        return set.entries().stream().map(entry -> {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("cidr", entry.cidr());
            if (entry.nomatch()) {
                e.put("nomatch", 1);
            }
            entry.comment().ifPresent(c -> e.put("comment", c));
            return e;
        }).toList();
    }

    private static IpSet set(FwConfig config, String name) {
        return config.ipset(name).orElseThrow(() -> new NotFound("no such IPSet '" + name + "'"));
    }

    private static FwConfig replace(FwConfig config, String name, IpSet set) {
        List<IpSet> sets = new ArrayList<>(config.ipsets().stream().filter(s -> !s.name().equals(name)).toList());
        if (set != null) {
            sets.add(set);
        }
        return config.withIpSets(sets);
    }

    private Object index(ApiRequest r) throws Exception {
        return Digests.withDigest(setList(read(r)));
    }

    private Object content(ApiRequest r) throws Exception {
        return Digests.withDigest(entryList(set(read(r), r.string("name"))));
    }

    private Object create(ApiRequest r) throws Exception {
        scope.exists().check(r);
        String name = r.string("name").toLowerCase(Locale.ROOT);
        Optional<String> comment = r.optionalString("comment").map(String::strip).filter(c -> !c.isEmpty());
        fw.update(scope.file().apply(r), scope.kind(), config -> {
            Optional<String> rename = r.optionalString("rename").map(n -> n.toLowerCase(Locale.ROOT));
            Digest.check(r.optionalString("digest"), Digests.list(setList(config)));
            if (rename.isPresent()) {
                IpSet old = config.ipset(rename.get()).orElseThrow(() ->
                        new ParameterError("name", "IPSet '" + r.string("rename") + "' does not exist"));
                if (config.ipset(name).isPresent() && !name.equals(rename.get())) {
                    throw new ParameterError("name", "IPSet '" + name + "' does already exist");
                }
                return replace(replace(config, old.name(), null), name, new IpSet(name, comment.or(old::comment), old.entries()));
            }
            if (config.ipset(name).isPresent()) {
                throw new ParameterError("name", "IPSet '" + name + "' already exists");
            }
            return replace(config, name, new IpSet(name, comment, List.of()));
        });
        return null;
    }

    private Object deleteSet(ApiRequest r) throws Exception {
        scope.exists().check(r);
        String name = r.string("name");
        fw.update(scope.file().apply(r), scope.kind(), config -> {
            IpSet set = set(config, name);
            if (!set.entries().isEmpty() && !r.bool("force")) {
                throw new ApiException(500, "IPSet '" + name + "' is not empty");
            }
            return replace(config, set.name(), null);
        });
        return null;
    }

    /** Proxmox stores a single address without its full-length prefix. */
    private static String normalize(String cidr) {
        return cidr.endsWith("/32") && !cidr.contains(":") ? cidr.substring(0, cidr.length() - 3)
                : cidr.endsWith("/128") && cidr.contains(":") ? cidr.substring(0, cidr.length() - 4) : cidr;
    }

    private Object add(ApiRequest r) throws Exception {
        scope.exists().check(r);
        String cidr = normalize(r.string("cidr"));
        fw.update(scope.file().apply(r), scope.kind(), config -> {
            IpSet set = set(config, r.string("name"));
            if (set.entry(cidr).isPresent()) {
                throw new ParameterError("cidr", "address '" + cidr + "' already exists");
            }
            IpSetEntry entry;
            try {
                entry = IpSets.checkEntry(set.name(), cidr, r.bool("nomatch"),
                        r.optionalString("comment").map(String::strip).filter(c -> !c.isEmpty()), new HashSet<>());
                if (!cidr.contains(".") && !cidr.contains(":")) {
                    RuleChecker.addressVersion(cidr, Optional.of(scope.refs().apply(config)));
                }
            } catch (IllegalArgumentException e) {
                throw new ParameterError("cidr", e.getMessage());
            }
            List<IpSetEntry> entries = new ArrayList<>(set.entries());
            entries.add(entry);
            return replace(config, set.name(), new IpSet(set.name(), set.comment(), entries));
        });
        return null;
    }

    private static IpSetEntry entry(IpSet set, String cidr) {
        return set.entry(cidr).orElseThrow(() -> new ParameterError("cidr", "no such IP/Network"));
    }

    private Object readEntry(ApiRequest r) throws Exception {
        IpSet set = set(read(r), r.string("name"));
        IpSetEntry entry = entry(set, r.string("cidr"));
        Map<String, Object> out = new LinkedHashMap<>(entryList(new IpSet(set.name(), set.comment(), List.of(entry))).getFirst());
        out.put("digest", Digests.list(entryList(set)));
        return out;
    }

    private Object updateEntry(ApiRequest r) throws Exception {
        scope.exists().check(r);
        fw.update(scope.file().apply(r), scope.kind(), config -> {
            IpSet set = set(config, r.string("name"));
            Digest.check(r.optionalString("digest"), Digests.list(entryList(set)));
            IpSetEntry old = entry(set, r.string("cidr"));
            IpSetEntry updated = new IpSetEntry(old.cidr(), r.has("nomatch") ? r.bool("nomatch") : old.nomatch(),
                    r.optionalString("comment").map(String::strip).filter(c -> !c.isEmpty()));
            List<IpSetEntry> entries = set.entries().stream().map(e -> e.equals(old) ? updated : e).toList();
            return replace(config, set.name(), new IpSet(set.name(), set.comment(), entries));
        });
        return null;
    }

    private Object removeEntry(ApiRequest r) throws Exception {
        scope.exists().check(r);
        fw.update(scope.file().apply(r), scope.kind(), config -> {
            IpSet set = set(config, r.string("name"));
            Digest.check(r.optionalString("digest"), Digests.list(entryList(set)));
            IpSetEntry old = entry(set, r.string("cidr"));
            return replace(config, set.name(), new IpSet(set.name(), set.comment(),
                    set.entries().stream().filter(e -> !e.equals(old)).toList()));
        });
        return null;
    }
}
