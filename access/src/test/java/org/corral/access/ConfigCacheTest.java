package org.corral.access;

import static org.assertj.core.api.Assertions.assertThat;
import static org.corral.access.AccessFixture.ADMIN;
import static org.corral.core.api.HttpVerb.POST;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.corral.core.access.Privilege;
import org.junit.jupiter.api.Test;

class ConfigCacheTest {
    @Test
    void concurrentWritersNeverLoseEachOthersChanges() throws Exception {
        try (AccessFixture fx = new AccessFixture(); ExecutorService pool = Executors.newFixedThreadPool(8)) {
            List<Future<Object>> results = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                String group = "g" + i;
                results.add(pool.submit(() -> fx.call(POST, "/access/groups", ADMIN, "groupid", group)));
            }
            for (Future<Object> result : results) {
                result.get();
            }

            assertThat(fx.access.service().users().groups()).hasSize(40);
        }
    }

    @Test
    void changesByAnotherNodeAreSeenThroughTheWatch() throws Exception {
        try (AccessFixture fx = new AccessFixture()) {
            String acl = "acl:1:/vms:admin@pve:PVEAuditor:\n";
            assertThat(fx.access.privileges(ADMIN, "/vms/1")).contains(Privilege.VM_ALLOCATE);

            fx.store.write("user.cfg", fx.userCfg() + acl, fx.store.read("user.cfg").orElseThrow().version());

            assertThat(fx.access.privileges(ADMIN, "/vms/1")).doesNotContain(Privilege.VM_ALLOCATE).contains(Privilege.VM_AUDIT);
        }
    }

    @Test
    void withoutWatchesEveryCheckAsksTheStoreForTheVersion() throws Exception {
        try (AccessFixture fx = new AccessFixture(false)) {
            assertThat(fx.store.watchedPrefixes()).isEmpty();
            assertThat(fx.access.privileges(ADMIN, "/vms/1")).contains(Privilege.VM_ALLOCATE);

            fx.store.write("user.cfg", fx.userCfg() + "acl:1:/vms:admin@pve:NoAccess:\n", fx.store.read("user.cfg").orElseThrow().version());

            assertThat(fx.access.privileges(ADMIN, "/vms/1")).isEmpty();
        }
    }

    @Test
    void closingStopsTheWatches() {
        AccessFixture fx = new AccessFixture();
        assertThat(fx.store.watchedPrefixes()).containsExactlyInAnyOrder("user.cfg", "domains.cfg", "authkey.pub", "authkey.pub.old", "priv");

        fx.close();

        assertThat(fx.store.watchedPrefixes()).isEmpty();
    }
}
