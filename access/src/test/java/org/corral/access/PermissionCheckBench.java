package org.corral.access;

import org.corral.core.config.InMemoryConfigStore;
import java.time.Clock;
import java.util.Map;
import java.util.Optional;
import org.corral.core.access.AuthContext;
import org.corral.core.api.ApiDispatcher;
import org.corral.core.api.ApiRegistry;
import org.corral.core.api.HttpVerb;

/**
 * Rough throughput of the per-request work of access control (not a test; run by hand):
 * ticket and token authentication, permission checks and one dispatched API call.
 */
public final class PermissionCheckBench {
    private PermissionCheckBench() {}

    public static void main(String[] args) throws Exception {
        InMemoryConfigStore store = new InMemoryConfigStore();
        AccessControl.initialize(store, Optional.of("admin-password"));
        StringBuilder users = new StringBuilder(store.text("user.cfg").replace("\n\n\n\n\n", "\n"));
        StringBuilder acl = new StringBuilder();
        StringBuilder groups = new StringBuilder();
        for (int i = 0; i < 1000; i++) {
            users.append("user:u").append(i).append("@pve:1:0::::::\n");
            users.append("token:u").append(i).append("@pve!t1:0:1::\n");
            groups.append("group:g").append(i).append(":u").append(i).append("@pve::\n");
            acl.append("acl:1:/vms/").append(100 + i).append(":@g").append(i).append(":PVEVMUser:\n");
            acl.append("acl:1:/vms/").append(100 + i).append(":u").append(i).append("@pve!t1:PVEAuditor:\n");
            acl.append("acl:1:/storage/s").append(i).append(":u").append(i).append("@pve:PVEDatastoreUser:\n");
        }
        String text = users + "\n" + groups + "\n\n\n" + acl;
        store.write("user.cfg", text, store.read("user.cfg").orElseThrow().version());
        try (AccessControl access = new AccessControl(store, Clock.systemUTC(), AccessSettings.defaults())) {
            System.out.println("users: " + access.service().users().users().size() + ", acl entries: " + access.service().users().acl().size());
            String ticket = access.issueTicket("u7@pve");
            var token = access.service();
            String secret = "6d7ca1a6-8f2e-4e3e-9a1b-2c3d4e5f6a7b";
            token.putTokenSecret("u7@pve!t1", secret);
            AuthContext user = AuthContext.user("u7@pve", "127.0.0.1");
            ApiDispatcher dispatcher = new ApiDispatcher(new ApiRegistry(access.apiModules()), access);
            for (int round = 0; round < 3; round++) {
                measure("privileges (cached path)", 2_000_000, i -> access.privileges(user, "/vms/107"));
                measure("privileges (1000 paths)", 2_000_000, i -> access.privileges(user, "/vms/" + (100 + i % 1000)));
                measure("authenticateTicket", 200_000, i -> access.authenticateTicket(ticket, "127.0.0.1"));
                measure("authenticateToken", 500_000, i -> access.authenticateToken("u7@pve!t1=" + secret, "127.0.0.1"));
                measure("verifyCsrf", 200_000, i -> access.verifyCsrf(access.issueCsrfToken("u7@pve"), "u7@pve"));
                measure("dispatch GET /access/roles/PVEVMUser", 200_000, i ->
                        dispatcher.dispatch(HttpVerb.GET, "/access/roles/PVEVMUser", Map.of(), user));
            }
        }
    }

    private interface Body {
        Object run(int i) throws Exception;
    }

    private static void measure(String name, int count, Body body) throws Exception {
        long start = System.nanoTime();
        Object sink = null;
        for (int i = 0; i < count; i++) {
            sink = body.run(i);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.printf("%-40s %,12.0f ops/s  (%.2f us/op)%s%n", name, count / seconds, seconds * 1e6 / count, sink == null ? "" : "");
    }
}
