package org.corral.firewall.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.corral.core.access.AuthContext;
import org.corral.core.access.PermissionChecker;
import org.corral.core.access.Privilege;
import org.corral.core.api.ApiDispatcher;
import org.corral.core.api.ApiRegistry;
import org.corral.core.api.HttpVerb;
import org.corral.core.config.ConfigFile;
import org.corral.core.config.InMemoryConfigStore;
import org.corral.core.error.ApiException;
import org.corral.core.error.Conflict;
import org.corral.core.error.NotFound;
import org.corral.core.error.ParameterError;
import org.corral.core.error.PermissionDenied;
import org.corral.core.node.Node;
import org.corral.firewall.FirewallService;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The firewall API through the dispatcher, against an in-memory config store. */
class FirewallApiTest {
    private static final AuthContext ROOT = AuthContext.user("root@pam", "127.0.0.1");
    private static final AuthContext AUDITOR = AuthContext.user("audit@pve", "127.0.0.1");

    @TempDir
    Path dir;

    private InMemoryConfigStore store;
    private ApiDispatcher api;
    private final Map<String, Map<String, Set<Privilege>>> grants = new ConcurrentHashMap<>();

    @BeforeEach
    void start() {
        store = new InMemoryConfigStore();
        Node node = new Node("pve1", dir.resolve("data"), dir.resolve("run"), "127.0.0.1", 0, new Node.ZooKeeperPorts(0, 0, 0));
        PermissionChecker permissions = (auth, path) -> auth.isRoot() ? EnumSet.allOf(Privilege.class)
                : grants.getOrDefault(auth.userid(), Map.of()).getOrDefault(path, Set.of());
        api = new ApiDispatcher(new ApiRegistry(new FirewallService(node, store).apiModules()), permissions);
        store.overwrite("nodes/pve1/qemu-server/100.conf", "name: web\n");
        store.overwrite("nodes/pve1/lxc/200.conf", "hostname: ct\n");
    }

    private Object call(HttpVerb verb, String path, Map<String, String> params) throws Exception {
        return api.dispatch(verb, path, params, ROOT);
    }

    private Object get(String path) throws Exception {
        return call(HttpVerb.GET, path, Map.of());
    }

    @SuppressWarnings("unchecked")
    private List<Map<String, Object>> list(String path) throws Exception {
        return (List<Map<String, Object>>) get(path);
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> map(String path) throws Exception {
        return (Map<String, Object>) get(path);
    }

    private String file(String path) {
        return store.read(path).map(ConfigFile::text).orElse("");
    }

    @Test
    void indexesListTheirChildrenAndAGuestIndexNeedsTheGuest() throws Exception {
        assertThat(list("/cluster/firewall")).extracting(e -> e.get("name")).containsExactlyInAnyOrder(
                "options", "rules", "groups", "ipset", "aliases", "macros", "refs");
        assertThat(list("/nodes/pve1/firewall")).extracting(e -> e.get("name")).containsExactlyInAnyOrder("options", "rules",
                "simulate", "log");
        assertThat(list("/nodes/pve1/qemu/100/firewall")).extracting(e -> e.get("name")).containsExactlyInAnyOrder(
                "options", "rules", "aliases", "ipset", "refs", "log");
        assertThatThrownBy(() -> get("/nodes/pve1/qemu/200/firewall")).isInstanceOf(NotFound.class)
                .hasMessage("Configuration file 'nodes/pve1/qemu-server/200.conf' does not exist");
        assertThatThrownBy(() -> get("/nodes/pve1/lxc/100/firewall/rules")).isInstanceOf(NotFound.class);
    }

    @Test
    void clusterOptionsAreWrittenCheckedByDigestAndDeleted() throws Exception {
        call(HttpVerb.PUT, "/cluster/firewall/options", Map.of("enable", "1", "policy_in", "DROP", "ebtables", "0",
                "log_ratelimit", "enable=1,burst=10,rate=5/second"));

        Map<String, Object> options = map("/cluster/firewall/options");
        assertThat(options).containsEntry("enable", 1L).containsEntry("policy_in", "DROP").containsEntry("ebtables", 0L)
                .containsEntry("log_ratelimit", "enable=1,burst=10,rate=5/second").containsKey("digest");
        assertThat(file("firewall/cluster.fw")).isEqualTo(
                "[OPTIONS]\n\nebtables: 0\nenable: 1\nlog_ratelimit: enable=1,burst=10,rate=5/second\npolicy_in: DROP\n\n");

        String before = file("firewall/cluster.fw");
        assertThatThrownBy(() -> call(HttpVerb.PUT, "/cluster/firewall/options", Map.of("policy_in", "ALLOW")))
                .isInstanceOfSatisfying(ParameterError.class, e -> assertThat(e.errors()).containsKey("policy_in"));
        assertThatThrownBy(() -> call(HttpVerb.PUT, "/cluster/firewall/options", Map.of("enable", "0", "digest", "0".repeat(40))))
                .isInstanceOf(Conflict.class).hasMessageContaining("detected modified configuration");
        assertThatThrownBy(() -> call(HttpVerb.PUT, "/cluster/firewall/options", Map.of("delete", "nosuch")))
                .isInstanceOfSatisfying(ParameterError.class, e -> assertThat(e.errors()).containsKey("delete"));
        assertThat(file("firewall/cluster.fw")).isEqualTo(before);

        call(HttpVerb.PUT, "/cluster/firewall/options", Map.of("delete", "ebtables,log_ratelimit", "digest", (String) options.get("digest")));
        assertThat(map("/cluster/firewall/options")).doesNotContainKeys("ebtables", "log_ratelimit").containsEntry("enable", 1L);
    }

    @Test
    void hostAndGuestOptionsUseTheirTiersNames() throws Exception {
        call(HttpVerb.PUT, "/nodes/pve1/firewall/options", Map.of("nf_conntrack_max", "300000", "tcpflags", "1", "nftables", "0"));
        call(HttpVerb.PUT, "/nodes/pve1/qemu/100/firewall/options", Map.of("enable", "1", "macfilter", "0", "policy_in", "REJECT"));

        assertThat(map("/nodes/pve1/firewall/options")).containsEntry("nf_conntrack_max", 300000L).containsEntry("tcpflags", 1L);
        assertThat(map("/nodes/pve1/qemu/100/firewall/options")).containsEntry("enable", 1L).containsEntry("macfilter", 0L);
        assertThat(file("firewall/100.fw")).startsWith("[OPTIONS]\n\nenable: 1\nmacfilter: 0\npolicy_in: REJECT\n");
        assertThatThrownBy(() -> call(HttpVerb.PUT, "/nodes/pve1/firewall/options", Map.of("nf_conntrack_max", "10")))
                .isInstanceOfSatisfying(ParameterError.class, e -> assertThat(e.errors()).containsKey("nf_conntrack_max"));
        assertThatThrownBy(() -> call(HttpVerb.PUT, "/nodes/pve1/qemu/100/firewall/options", Map.of("policy_forward", "DROP")))
                .isInstanceOfSatisfying(ParameterError.class, e -> assertThat(e.errors()).containsKey("policy_forward"));
    }

    @Test
    void rulesAreCreatedAtTheTopMovedUpdatedAndDeletedByPosition() throws Exception {
        String rules = "/nodes/pve1/firewall/rules";
        call(HttpVerb.POST, rules, Map.of("type", "in", "action", "ACCEPT", "proto", "tcp", "dport", "22", "enable", "1", "comment", "c"));
        call(HttpVerb.POST, rules, Map.of("type", "in", "action", "DROP", "source", "192.0.2.0/24"));
        call(HttpVerb.POST, rules, Map.of("type", "out", "action", "ACCEPT", "macro", "dns"));

        List<Map<String, Object>> listed = list(rules);
        assertThat(listed).extracting(r -> r.get("pos"), r -> r.get("type"), r -> r.get("action"), r -> r.get("enable")).containsExactly(
                org.assertj.core.groups.Tuple.tuple(0, "out", "ACCEPT", 0),
                org.assertj.core.groups.Tuple.tuple(1, "in", "DROP", 0),
                org.assertj.core.groups.Tuple.tuple(2, "in", "ACCEPT", 1));
        assertThat(listed.getFirst()).containsEntry("macro", "DNS");
        assertThat(file("nodes/pve1/host.fw")).isEqualTo(
                "[RULES]\n\n|OUT DNS(ACCEPT)\n|IN DROP -source 192.0.2.0/24\nIN ACCEPT -p tcp -dport 22 # c\n\n");

        String digest = (String) listed.getFirst().get("digest");
        call(HttpVerb.PUT, rules + "/0", Map.of("moveto", "2", "digest", digest));
        assertThat(list(rules)).extracting(r -> r.get("action")).containsExactly("DROP", "ACCEPT", "ACCEPT");
        assertThat(list(rules).get(1)).containsEntry("macro", "DNS");
        call(HttpVerb.PUT, rules + "/0", Map.of("moveto", "9"));
        assertThat(list(rules)).extracting(r -> r.get("type")).containsExactly("out", "in", "in");

        assertThatThrownBy(() -> call(HttpVerb.PUT, rules + "/1", Map.of("enable", "1", "digest", digest)))
                .isInstanceOf(Conflict.class);
        call(HttpVerb.PUT, rules + "/1", Map.of("enable", "1", "dport", "2222", "delete", "comment"));
        assertThat(map(rules + "/1")).containsEntry("pos", 1).containsEntry("dport", "2222").containsEntry("enable", 1)
                .doesNotContainKey("comment");

        call(HttpVerb.DELETE, rules + "/0", Map.of());
        assertThat(list(rules)).hasSize(2);
        assertThatThrownBy(() -> get(rules + "/5")).isInstanceOf(NotFound.class).hasMessage("no rule at position 5");
        assertThatThrownBy(() -> call(HttpVerb.DELETE, rules + "/2", Map.of())).isInstanceOf(NotFound.class)
                .hasMessage("no rule at position 2");
    }

    @Test
    void badRulesNameTheParameterAndChangeNothing() throws Exception {
        String rules = "/nodes/pve1/qemu/100/firewall/rules";
        call(HttpVerb.POST, rules, Map.of("type", "in", "action", "ACCEPT"));
        String before = file("firewall/100.fw");

        assertThatThrownBy(() -> call(HttpVerb.POST, rules, Map.of("type", "in", "action", "ACCEPT", "dport", "22")))
                .isInstanceOfSatisfying(ParameterError.class, e -> assertThat(e.errors())
                        .containsEntry("proto", "missing property - 'dport' requires this property"));
        assertThatThrownBy(() -> call(HttpVerb.POST, rules, Map.of("type", "in", "action", "ACCEPT", "iface", "eth0")))
                .isInstanceOfSatisfying(ParameterError.class, e -> assertThat(e.errors()).containsKey("iface"));
        assertThatThrownBy(() -> call(HttpVerb.POST, rules, Map.of("type", "forward", "action", "ACCEPT")))
                .isInstanceOfSatisfying(ParameterError.class, e -> assertThat(e.errors()).containsKey("type"));
        assertThatThrownBy(() -> call(HttpVerb.POST, rules, Map.of("type", "in", "action", "ACCEPT", "source", "+nosuchset")))
                .isInstanceOfSatisfying(ParameterError.class, e -> assertThat(e.errors()).containsEntry("source", "no such ipset 'nosuchset'"));
        assertThatThrownBy(() -> call(HttpVerb.POST, rules, Map.of("type", "in", "action", "ACCEPT", "macro", "Nope")))
                .isInstanceOfSatisfying(ParameterError.class, e -> assertThat(e.errors()).containsEntry("macro", "unknown macro 'Nope'"));
        assertThatThrownBy(() -> call(HttpVerb.POST, rules, Map.of("type", "in", "action", "ACCEPT", "comment", "a\nIN ACCEPT")))
                .isInstanceOfSatisfying(ParameterError.class, e -> assertThat(e.errors()).containsKey("comment"));
        assertThat(file("firewall/100.fw")).isEqualTo(before);
    }

    @Test
    void securityGroupIsUsedInAGuestsRulesAndCannotBeDeletedWhileItHasRules() throws Exception {
        call(HttpVerb.POST, "/cluster/firewall/groups", Map.of("group", "webserver", "comment", "web"));
        call(HttpVerb.POST, "/cluster/firewall/groups/webserver", Map.of("type", "in", "action", "ACCEPT", "macro", "HTTPS", "enable", "1"));
        call(HttpVerb.POST, "/nodes/pve1/lxc/200/firewall/rules", Map.of("type", "group", "action", "webserver", "iface", "net0", "enable", "1"));

        assertThat(list("/cluster/firewall/groups")).singleElement().satisfies(g ->
                assertThat(g).containsEntry("group", "webserver").containsEntry("comment", "web").containsKey("digest"));
        assertThat(list("/cluster/firewall/groups/webserver")).singleElement().satisfies(r -> assertThat(r).containsEntry("macro", "HTTPS"));
        assertThat(file("firewall/200.fw")).isEqualTo("[RULES]\n\nGROUP webserver -i net0\n\n");
        assertThatThrownBy(() -> call(HttpVerb.POST, "/nodes/pve1/lxc/200/firewall/rules", Map.of("type", "group", "action", "nogroup")))
                .isInstanceOfSatisfying(ParameterError.class, e -> assertThat(e.errors()).containsKey("action"));
        assertThatThrownBy(() -> call(HttpVerb.POST, "/cluster/firewall/groups/webserver", Map.of("type", "group", "action", "other")))
                .isInstanceOfSatisfying(ParameterError.class, e -> assertThat(e.errors()).containsKey("type"));
        assertThatThrownBy(() -> call(HttpVerb.DELETE, "/cluster/firewall/groups/webserver", Map.of()))
                .isInstanceOf(ApiException.class).hasMessage("Security group 'webserver' is not empty");
        assertThatThrownBy(() -> get("/cluster/firewall/groups/nosuch")).isInstanceOf(NotFound.class)
                .hasMessage("no such security group 'nosuch'");

        call(HttpVerb.POST, "/cluster/firewall/groups", Map.of("group", "web2", "rename", "webserver"));
        assertThat(list("/cluster/firewall/groups")).extracting(g -> g.get("group")).containsExactly("web2");
        call(HttpVerb.DELETE, "/cluster/firewall/groups/web2/0", Map.of());
        call(HttpVerb.DELETE, "/cluster/firewall/groups/web2", Map.of());
        assertThat(list("/cluster/firewall/groups")).isEmpty();
    }

    @Test
    void ipsetsHoldNomatchEntriesAndAliasesAndAreListedAsRefs() throws Exception {
        call(HttpVerb.POST, "/cluster/firewall/aliases", Map.of("name", "office", "cidr", "192.0.2.0/24", "comment", "HQ"));
        call(HttpVerb.POST, "/cluster/firewall/ipset", Map.of("name", "management"));
        call(HttpVerb.POST, "/cluster/firewall/ipset/management", Map.of("cidr", "office"));
        call(HttpVerb.POST, "/cluster/firewall/ipset/management", Map.of("cidr", "192.0.2.7/32", "nomatch", "1", "comment", "not this"));

        assertThat(list("/cluster/firewall/ipset/management")).extracting(e -> e.get("cidr"), e -> e.get("nomatch")).containsExactly(
                org.assertj.core.groups.Tuple.tuple("192.0.2.7", 1), org.assertj.core.groups.Tuple.tuple("office", null));
        assertThat(map("/cluster/firewall/ipset/management/192.0.2.7")).containsEntry("comment", "not this");
        assertThat(file("firewall/cluster.fw")).contains("[IPSET management]\n\n!192.0.2.7 # not this\noffice\n");
        assertThatThrownBy(() -> call(HttpVerb.POST, "/cluster/firewall/ipset/management", Map.of("cidr", "10.0.0.0/0")))
                .isInstanceOfSatisfying(ParameterError.class, e -> assertThat(e.errors()).containsKey("cidr"));
        assertThatThrownBy(() -> call(HttpVerb.POST, "/cluster/firewall/ipset/management", Map.of("cidr", "office")))
                .isInstanceOfSatisfying(ParameterError.class, e -> assertThat(e.errors()).containsEntry("cidr", "address 'office' already exists"));
        assertThatThrownBy(() -> call(HttpVerb.POST, "/cluster/firewall/ipset/nosuch", Map.of("cidr", "10.0.0.1")))
                .isInstanceOf(NotFound.class).hasMessage("no such IPSet 'nosuch'");

        call(HttpVerb.PUT, "/cluster/firewall/ipset/management/192.0.2.7", Map.of("nomatch", "0"));
        assertThat(map("/cluster/firewall/ipset/management/192.0.2.7")).doesNotContainKeys("nomatch", "comment");
        assertThatThrownBy(() -> call(HttpVerb.DELETE, "/cluster/firewall/ipset/management", Map.of()))
                .isInstanceOf(ApiException.class).hasMessage("IPSet 'management' is not empty");
        call(HttpVerb.POST, "/nodes/pve1/qemu/100/firewall/ipset", Map.of("name", "ipfilter-net0"));
        call(HttpVerb.POST, "/nodes/pve1/qemu/100/firewall/aliases", Map.of("name", "db", "cidr", "2001:db8::5/128"));

        assertThat(map("/nodes/pve1/qemu/100/firewall/aliases/DB")).containsEntry("cidr", "2001:db8::5");
        List<Map<String, Object>> refs = list("/nodes/pve1/qemu/100/firewall/refs");
        assertThat(refs).extracting(r -> r.get("ref"), r -> r.get("scope")).containsExactly(
                org.assertj.core.groups.Tuple.tuple("+guest/ipfilter-net0", "guest"),
                org.assertj.core.groups.Tuple.tuple("guest/db", "guest"),
                org.assertj.core.groups.Tuple.tuple("+dc/management", "dc"),
                org.assertj.core.groups.Tuple.tuple("dc/office", "dc"));
        call(HttpVerb.POST, "/nodes/pve1/qemu/100/firewall/rules", Map.of("type", "out", "action", "ACCEPT", "dest", "db", "proto", "tcp", "dport", "5432"));
        assertThatThrownBy(() -> call(HttpVerb.POST, "/nodes/pve1/qemu/100/firewall/rules",
                Map.of("type", "out", "action", "ACCEPT", "source", "office", "dest", "db")))
                .isInstanceOfSatisfying(ParameterError.class, e -> assertThat(e.errors()).containsKey("dest"));

        call(HttpVerb.PUT, "/cluster/firewall/aliases/office", Map.of("cidr", "198.51.100.0/24", "rename", "hq"));
        assertThat(list("/cluster/firewall/aliases")).singleElement().satisfies(a ->
                assertThat(a).containsEntry("name", "hq").containsEntry("cidr", "198.51.100.0/24"));
        assertThatThrownBy(() -> get("/cluster/firewall/aliases/office"))
                .isInstanceOfSatisfying(ParameterError.class, e -> assertThat(e.errors()).containsEntry("name", "no such alias"));
    }

    @Test
    void macrosAreListedWithTheirDescriptions() throws Exception {
        List<Map<String, Object>> macros = list("/cluster/firewall/macros");

        assertThat(macros).hasSize(84).contains(Map.of("macro", "SSH", "descr", "Secure shell traffic"));
    }

    @Test
    void guestRulesNeedVmAuditToReadAndConfigNetworkToChange() throws Exception {
        grants.put("audit@pve", Map.of("/vms/100", Set.of(Privilege.VM_AUDIT)));

        assertThat(api.dispatch(HttpVerb.GET, "/nodes/pve1/qemu/100/firewall/rules", Map.of(), AUDITOR)).isEqualTo(List.of());
        assertThatThrownBy(() -> api.dispatch(HttpVerb.POST, "/nodes/pve1/qemu/100/firewall/rules",
                Map.of("type", "in", "action", "ACCEPT"), AUDITOR)).isInstanceOf(PermissionDenied.class);
        assertThatThrownBy(() -> api.dispatch(HttpVerb.GET, "/cluster/firewall/rules", Map.of(), AUDITOR))
                .isInstanceOf(PermissionDenied.class);
        assertThat(file("firewall/100.fw")).isEmpty();
    }
}
