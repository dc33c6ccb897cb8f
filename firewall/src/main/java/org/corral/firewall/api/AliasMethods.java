package org.corral.firewall.api;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.corral.core.api.ApiMethod;
import org.corral.core.api.ApiRequest;
import org.corral.core.config.Digest;
import org.corral.core.error.ParameterError;
import org.corral.core.schema.Schema;
import org.corral.firewall.Alias;
import org.corral.firewall.FirewallService;
import org.corral.firewall.FwConfig;
import org.corral.firewall.RuleChecker;

/** {@code .../aliases}: a tier's named addresses, with Proxmox's names, answers and errors. */
final class AliasMethods {
    private final FirewallService fw;
    private final Scope scope;

    AliasMethods(FirewallService fw, Scope scope) {
        this.fw = requireNonNull(fw, "fw is null");
        this.scope = requireNonNull(scope, "scope is null");
    }

    private static Schema name(String description) {
        return Digests.name(RuleChecker.ALIAS_NAME_MAX, description);
    }

    private static Schema cidr() {
        return Schema.string().description("Network/IP specification in CIDR format.");
    }

    List<ApiMethod> methods() {
        String base = scope.base() + "/aliases";
        return List.of(
                scope.params(ApiMethod.get(base).name("get_aliases").description("List aliases").permission(scope.audit()))
                        .returns(Schema.array(Schema.object().property("name", Schema.string())))
                        .handler(this::list),
                scope.params(ApiMethod.post(base).name("create_alias").description("Create IP or Network Alias.").permission(scope.modify()))
                        .parameter("name", name("Alias name."))
                        .parameter("cidr", cidr())
                        .parameter("comment", Schema.string().optional())
                        .handler(this::create),
                scope.params(ApiMethod.get(base + "/{name}").name("read_alias").description("Read alias.").permission(scope.audit()))
                        .parameter("name", name("Alias name."))
                        .returns(Schema.object())
                        .handler(this::readAlias),
                scope.params(ApiMethod.put(base + "/{name}").name("update_alias").description("Update IP or Network alias.")
                        .permission(scope.modify()))
                        .parameter("name", name("Alias name."))
                        .parameter("cidr", cidr())
                        .parameter("comment", Schema.string().optional())
                        .parameter("digest", RuleMethods.digest())
                        .parameter("rename", name("Rename an existing alias.").optional())
                        .handler(this::update),
                scope.params(ApiMethod.delete(base + "/{name}").name("remove_alias").description("Remove IP or Network alias.")
                        .permission(scope.modify()))
                        .parameter("name", name("Alias name."))
                        .parameter("digest", RuleMethods.digest())
                        .handler(this::remove));
    }

    private static List<Map<String, Object>> entries(FwConfig config) {
        return config.aliases().stream().sorted(Comparator.comparing(Alias::key)).map(alias -> {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("name", alias.name());
            e.put("cidr", alias.cidr());
            alias.comment().ifPresent(c -> e.put("comment", c));
            return e;
        }).toList();
    }

    private FwConfig config(ApiRequest r) throws Exception {
        scope.exists().check(r);
        return fw.read(scope.file().apply(r), scope.kind()).config();
    }

    private Object list(ApiRequest r) throws Exception {
        return Digests.withDigest(entries(config(r)));
    }

    private Object readAlias(ApiRequest r) throws Exception {
        FwConfig config = config(r);
        Alias alias = config.alias(r.string("name")).orElseThrow(() -> new ParameterError("name", "no such alias"));
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("name", alias.name());
        out.put("cidr", alias.cidr());
        alias.comment().ifPresent(c -> out.put("comment", c));
        out.put("digest", Digests.list(entries(config)));
        return out;
    }

    /** A valid address or network, stored without a full-length prefix as Proxmox does. */
    private static String cidr(ApiRequest r) {
        String cidr = r.string("cidr");
        try {
            int version = RuleChecker.cidrVersion(cidr);
            String full = version == 4 ? "/32" : "/128";
            return cidr.endsWith(full) ? cidr.substring(0, cidr.length() - full.length()) : cidr;
        } catch (IllegalArgumentException e) {
            throw new ParameterError("cidr", "value does not look like a valid IP address or CIDR network");
        }
    }

    private static Optional<String> comment(ApiRequest r) {
        return r.optionalString("comment").map(String::strip).filter(c -> !c.isEmpty());
    }

    private static FwConfig without(FwConfig config, String key) {
        return config.withAliases(config.aliases().stream().filter(a -> !a.key().equals(key)).toList());
    }

    private Object create(ApiRequest r) throws Exception {
        scope.exists().check(r);
        String cidr = cidr(r);
        fw.update(scope.file().apply(r), scope.kind(), config -> {
            String name = r.string("name");
            if (config.alias(name).isPresent()) {
                throw new ParameterError("name", "alias '" + name + "' already exists");
            }
            List<Alias> aliases = new ArrayList<>(config.aliases());
            aliases.add(new Alias(name, cidr, comment(r)));
            return config.withAliases(aliases);
        });
        return null;
    }

    private Object update(ApiRequest r) throws Exception {
        scope.exists().check(r);
        String cidr = cidr(r);
        fw.update(scope.file().apply(r), scope.kind(), config -> {
            Digest.check(r.optionalString("digest"), Digests.list(entries(config)));
            String name = r.string("name");
            Alias old = config.alias(name).orElseThrow(() -> new ParameterError("name", "no such alias"));
            String newName = r.optionalString("rename").orElse(name);
            if (!newName.toLowerCase(Locale.ROOT).equals(old.key()) && config.alias(newName).isPresent()) {
                throw new ParameterError("name", "alias '" + newName + "' already exists");
            }
            List<Alias> aliases = new ArrayList<>(without(config, old.key()).aliases());
            aliases.add(new Alias(newName, cidr, comment(r)));
            return config.withAliases(aliases);
        });
        return null;
    }

    private Object remove(ApiRequest r) throws Exception {
        scope.exists().check(r);
        fw.update(scope.file().apply(r), scope.kind(), config -> {
            Digest.check(r.optionalString("digest"), Digests.list(entries(config)));
            return without(config, r.string("name").toLowerCase(Locale.ROOT));
        });
        return null;
    }
}
