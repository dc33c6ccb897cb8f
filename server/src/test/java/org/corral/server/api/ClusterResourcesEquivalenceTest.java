package org.corral.server.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.corral.access.AccessControl;
import org.corral.access.AccessSettings;
import org.corral.core.access.AuthContext;
import org.corral.core.access.PermissionView;
import org.corral.core.access.Privilege;
import org.corral.core.api.EncodedAnswer;
import org.corral.core.config.ConfigFile;
import org.corral.core.config.InMemoryConfigStore;
import org.corral.core.guest.GuestUsage;
import org.corral.core.json.Json;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The fast {@code /cluster/resources} (guest index, precomputed permission views, kept encoded
 * answers) gives byte for byte what a straightforward computation gives: read every guest config
 * from the store, evaluate each ACL path with {@link AccessControl#privileges}, encode. Over random
 * guests on two nodes, random users, groups, pools, tokens (with and without privilege
 * separation, some expired), ACLs (NoAccess, propagated or not), disabled and expired users, a
 * user who may see nothing, and changes of all of them between rounds.
 */
class ClusterResourcesEquivalenceTest {
    private static final String NODE = "n1";
    private static final List<String> ROLES = List.of("PVEAuditor", "PVEVMUser", "PVEVMAdmin", "NoAccess", "PVEDatastoreUser",
            "PVEDatastoreAdmin", "Administrator", "PVESysAdmin", "PVEPoolUser");
    private static final List<String> STORAGES = List.of("local", "s1", "s2");
    private static final List<String> TYPES = List.of("", "vm", "node", "storage");

    /** A clock the test moves, so that running guests are measured again. */
    private static final class TestClock extends Clock {
        final AtomicLong millis = new AtomicLong(1_800_000_000_000L);

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return Instant.ofEpochMilli(millis.get());
        }
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
    void fastAnswersEqualTheStraightforwardOnes(long seed) {
        Random random = new Random(seed);
        InMemoryConfigStore store = new InMemoryConfigStore();
        AccessControl.initialize(store, Optional.of("admin-pass-1"));
        TestClock clock = new TestClock();
        AtomicReference<Map<Integer, GuestUsage.Usage>> qemu = new AtomicReference<>(Map.of());
        AtomicReference<Map<Integer, GuestUsage.Usage>> lxc = new AtomicReference<>(Map.of());
        RunningGuests running = new RunningGuests(clock, Map.of("qemu", qemu::get, "lxc", lxc::get));
        Map<String, Object> nodeEntry = Map.of("id", "node/" + NODE, "type", "node", "node", NODE, "status", "online");
        List<ClusterResources.StorageEntry> storages = STORAGES.stream()
                .map(id -> new ClusterResources.StorageEntry(id, Map.<String, Object>of("id", "storage/" + NODE + "/" + id, "storage", id)))
                .toList();
        try (AccessControl access = new AccessControl(store, Clock.systemUTC(), AccessSettings.defaults());
                GuestIndex index = new GuestIndex(store)) {
            ClusterResources resources = new ClusterResources(NODE, index, running, () -> nodeEntry, () -> storages);
            for (int round = 0; round < 4; round++) {
                Users users = randomUsers(random);
                store.overwrite("user.cfg", users.text());
                assertThat(access.service().users().user("nobody@pve")).as(users.text()).isPresent();
                changeGuests(store, random);
                Map<Integer, String> local = localGuests(store);
                qemu.set(runningSubset(random, local, "qemu"));
                lxc.set(runningSubset(random, local, "lxc"));
                clock.millis.addAndGet(5000);

                List<AuthContext> callers = new ArrayList<>(users.callers());
                callers.add(AuthContext.user(AuthContext.ROOT, "192.0.2.1"));
                callers.add(AuthContext.anonymous("192.0.2.1"));
                for (AuthContext caller : callers) {
                    PermissionView view = access.view(caller);
                    for (int vmid = 95; vmid < 215; vmid++) {
                        assertThat(view.guest(vmid)).as("%s on /vms/%d\n%s", caller, vmid, users.text())
                                .isEqualTo(access.privileges(caller, "/vms/" + vmid));
                    }
                    for (String type : TYPES) {
                        Optional<String> wanted = type.isEmpty() ? Optional.empty() : Optional.of(type);
                        EncodedAnswer fast = resources.answer(wanted, view);
                        String expected = slow(store, access, caller, wanted, running, nodeEntry, storages);
                        assertThat(new String(fast.body(false, false), StandardCharsets.UTF_8))
                                .as("%s type=%s round %d\n%s", caller, type, round, users.text()).isEqualTo(expected);
                        assertThat(resources.answer(wanted, access.view(caller))).as("kept while nothing changed").isSameAs(fast);
                    }
                }
                assertThat(new String(resources.answer(Optional.empty(), access.view(AuthContext.user("nobody@pve", "192.0.2.1")))
                        .body(false, false), StandardCharsets.UTF_8)).isEqualTo("{\"data\":[]}");
            }
        }
    }

    /** Read every config, check every path, encode: what the fast path must give. */
    private static String slow(InMemoryConfigStore store, AccessControl access, AuthContext caller, Optional<String> type,
            RunningGuests running, Map<String, Object> nodeEntry, List<ClusterResources.StorageEntry> storages) {
        List<Map<String, Object>> out = new ArrayList<>();
        if (type.isEmpty() || type.get().equals("vm")) {
            List<GuestIndex.Guest> guests = new ArrayList<>();
            for (String node : store.list("nodes")) {
                for (String dir : List.of("qemu-server", "lxc")) {
                    for (String file : store.list("nodes/" + node + "/" + dir)) {
                        ConfigFile config = store.read("nodes/" + node + "/" + dir + "/" + file).orElseThrow();
                        int vmid = Integer.parseInt(file.substring(0, file.length() - ".conf".length()));
                        guests.add(new GuestIndex.Guest(node, dir.equals("lxc") ? "lxc" : "qemu", vmid,
                                GuestIndex.mainSection(config.text())));
                    }
                }
            }
            guests.sort(Comparator.comparingInt(GuestIndex.Guest::vmid).thenComparing(GuestIndex.Guest::node)
                    .thenComparing(GuestIndex.Guest::type));
            for (GuestIndex.Guest g : guests) {
                if (access.privileges(caller, "/vms/" + g.vmid()).contains(Privilege.VM_AUDIT)) {
                    Map<String, Object> entry = ClusterApi.guestResource(g);
                    Optional<GuestUsage.Usage> usage = g.node().equals(NODE) ? running.usage(g.type(), g.vmid()) : Optional.empty();
                    out.add(usage.isPresent() ? ClusterApi.runningResource(entry, usage.get()) : entry);
                }
            }
        }
        if ((type.isEmpty() || type.get().equals("node")) && access.privileges(caller, "/nodes/" + NODE).contains(Privilege.SYS_AUDIT)) {
            out.add(nodeEntry);
        }
        if (type.isEmpty() || type.get().equals("storage")) {
            for (ClusterResources.StorageEntry storage : storages) {
                Set<Privilege> held = access.privileges(caller, "/storage/" + storage.id());
                if (held.contains(Privilege.DATASTORE_AUDIT) || held.contains(Privilege.DATASTORE_ALLOCATE_SPACE)) {
                    out.add(storage.resource());
                }
            }
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("data", out);
        return new String(Json.writeBytes(body), StandardCharsets.UTF_8);
    }

    /** Adds, changes and deletes random guest configs of two nodes (VMIDs 100..199). */
    private static void changeGuests(InMemoryConfigStore store, Random random) {
        int changes = 20 + random.nextInt(40);
        for (int i = 0; i < changes; i++) {
            int vmid = 100 + random.nextInt(100);
            String node = random.nextInt(3) == 0 ? "n2" : NODE;
            boolean lxc = random.nextInt(3) == 0;
            String path = "nodes/" + node + "/" + (lxc ? "lxc" : "qemu-server") + "/" + vmid + ".conf";
            if (random.nextInt(5) == 0) {
                store.read(path).ifPresent(f -> store.delete(path, f.version()));
                continue;
            }
            StringBuilder text = new StringBuilder();
            if (random.nextBoolean()) {
                text.append(lxc ? "hostname: ct" : "name: vm").append(vmid).append('\n');
            }
            if (random.nextBoolean()) {
                text.append("memory: ").append(64 << random.nextInt(6)).append('\n');
            }
            if (random.nextBoolean()) {
                text.append("cores: ").append(1 + random.nextInt(8)).append('\n');
            }
            if (random.nextInt(4) == 0) {
                text.append("tags: t").append(random.nextInt(3)).append(";prod\n");
            }
            if (random.nextInt(6) == 0) {
                text.append("lock: backup\n");
            }
            if (random.nextInt(6) == 0) {
                text.append("template: 1\n");
            }
            if (random.nextInt(4) == 0) {
                text.append("\n[snap]\nname: old\nmemory: 1\n");
            }
            store.overwrite(path, text.toString());
        }
    }

    /** VMID to guest type of the guests of the local node. */
    private static Map<Integer, String> localGuests(InMemoryConfigStore store) {
        Map<Integer, String> out = new TreeMap<>();
        store.list("nodes/" + NODE + "/qemu-server").forEach(f -> out.put(Integer.parseInt(f.replace(".conf", "")), "qemu"));
        store.list("nodes/" + NODE + "/lxc").forEach(f -> out.put(Integer.parseInt(f.replace(".conf", "")), "lxc"));
        return out;
    }

    private static Map<Integer, GuestUsage.Usage> runningSubset(Random random, Map<Integer, String> local, String type) {
        Map<Integer, GuestUsage.Usage> out = new TreeMap<>();
        local.forEach((vmid, t) -> {
            if (t.equals(type) && random.nextInt(3) == 0) {
                out.put(vmid, random.nextBoolean() ? GuestUsage.Usage.unmeasured()
                        : new GuestUsage.Usage(OptionalDouble.of(random.nextDouble()), OptionalLong.of(random.nextInt(1 << 30)),
                                OptionalLong.of(random.nextInt(100_000)), OptionalLong.empty(), OptionalLong.empty(),
                                OptionalLong.of(random.nextInt(1000)), OptionalLong.of(random.nextInt(1000))));
            }
        });
        return out;
    }

    private record Users(String text, List<AuthContext> callers) {}

    /** A random user.cfg: users (some disabled or expired), tokens, groups, pools, ACLs, and nobody@pve with nothing. */
    private static Users randomUsers(Random random) {
        StringBuilder text = new StringBuilder();
        List<AuthContext> callers = new ArrayList<>();
        List<String> subjects = new ArrayList<>();
        text.append("user:root@pam:1:0::::::\n");
        text.append("user:nobody@pve:1:0::::::\n");
        callers.add(AuthContext.user("nobody@pve", "192.0.2.1"));
        int userCount = 3 + random.nextInt(4);
        List<String> userIds = new ArrayList<>();
        for (int u = 0; u < userCount; u++) {
            String userid = "u" + u + "@pve";
            userIds.add(userid);
            int enable = random.nextInt(6) == 0 ? 0 : 1;
            long expire = random.nextInt(8) == 0 ? 1000 : 0;
            text.append("user:").append(userid).append(':').append(enable).append(':').append(expire).append("::::::\n");
            callers.add(AuthContext.user(userid, "192.0.2.1"));
            subjects.add(userid);
        }
        for (String userid : userIds) {
            int tokens = random.nextInt(3);
            for (int t = 0; t < tokens; t++) {
                String tokenid = userid + "!tok" + t;
                long expire = random.nextInt(6) == 0 ? 1000 : 0;
                text.append("token:").append(tokenid).append(':').append(expire).append(':').append(random.nextInt(2)).append("::\n");
                callers.add(new AuthContext(userid, Optional.of(tokenid), "192.0.2.1"));
                subjects.add(tokenid);
            }
        }
        text.append('\n');
        int groups = 1 + random.nextInt(3);
        for (int g = 0; g < groups; g++) {
            List<String> members = userIds.stream().filter(u -> random.nextInt(3) == 0).toList();
            text.append("group:g").append(g).append(':').append(String.join(",", members)).append("::\n");
            subjects.add("@g" + g);
        }
        text.append('\n');
        int pools = random.nextInt(4);
        List<String> paths = new ArrayList<>(List.of("/", "/vms", "/nodes", "/nodes/" + NODE, "/storage", "/access"));
        for (int p = 0; p < pools; p++) {
            List<String> vms = new ArrayList<>();
            int members = random.nextInt(15);
            for (int i = 0; i < members; i++) {
                vms.add(Integer.toString(100 + random.nextInt(110)));
            }
            List<String> storage = STORAGES.stream().filter(s -> random.nextInt(3) == 0).toList();
            text.append("pool:p").append(p).append("::").append(String.join(",", vms.stream().distinct().toList())).append(':')
                    .append(String.join(",", storage)).append(":\n");
            paths.add("/pool/p" + p);
        }
        STORAGES.forEach(s -> paths.add("/storage/" + s));
        for (int i = 0; i < 8; i++) {
            paths.add("/vms/" + (100 + random.nextInt(110)));
        }
        text.append('\n');
        int acls = random.nextInt(14);
        TreeMap<String, List<String>> lines = new TreeMap<>();
        for (int a = 0; a < acls; a++) {
            String path = paths.get(random.nextInt(paths.size()));
            String subject = subjects.get(random.nextInt(subjects.size()));
            String role = ROLES.get(random.nextInt(ROLES.size()));
            lines.computeIfAbsent(path, k -> new ArrayList<>())
                    .add("acl:" + random.nextInt(2) + ":" + path + ":" + subject + ":" + role + ":");
        }
        lines.values().forEach(l -> l.forEach(line -> text.append(line).append('\n')));
        return new Users(text.toString(), callers);
    }
}
