package org.corral.core.guest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.locks.LockSupport;
import org.corral.core.config.ConfigStore;
import org.corral.core.config.InMemoryConfigStore;
import org.corral.core.error.Conflict;
import org.junit.jupiter.api.Test;

class GuestIdsTest {
    @Test
    void aVmidHeldByAContainerOnAnyNodeIsRefusedForAVm() {
        InMemoryConfigStore store = new InMemoryConfigStore();
        GuestIds ids = new GuestIds(store);
        ids.reserve("pve2", GuestIds.Kind.LXC, 100, "lock: create\n");
        assertThatThrownBy(() -> ids.reserve("pve1", GuestIds.Kind.QEMU, 100, "lock: create\n"))
                .isInstanceOf(Conflict.class).hasMessage("CT 100 already exists on node 'pve2'");
        assertThat(store.read("nodes/pve1/qemu-server/100.conf")).isEmpty();
        assertThat(ids.owner(100)).contains(new GuestIds.Owner("pve2", GuestIds.Kind.LXC));
    }

    /** A store whose reads and listings take a millisecond, as a remote one's do, so that a check-then-write race shows. */
    private static ConfigStore slowReads(ConfigStore store) {
        return (ConfigStore) Proxy.newProxyInstance(GuestIdsTest.class.getClassLoader(), new Class<?>[] {ConfigStore.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("read") || method.getName().equals("list")) {
                        LockSupport.parkNanos(1_000_000);
                    }
                    try {
                        return method.invoke(store, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    @Test
    void racingReservationsOfBothKindsGiveEachVmidOnce() throws Exception {
        GuestIds ids = new GuestIds(slowReads(new InMemoryConfigStore()));
        CountDownLatch go = new CountDownLatch(1);
        List<Future<Boolean>> results = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(16)) {
            for (int i = 0; i < 200; i++) {
                int vmid = 100 + i % 10;
                GuestIds.Kind kind = i / 10 % 2 == 0 ? GuestIds.Kind.QEMU : GuestIds.Kind.LXC; // each VMID asked for as both kinds
                results.add(pool.submit(() -> {
                    go.await();
                    try {
                        ids.reserve("pve1", kind, vmid, "lock: create\n");
                        return true;
                    } catch (Conflict e) {
                        return false;
                    }
                }));
            }
            go.countDown();
        }
        long won = 0;
        for (Future<Boolean> r : results) {
            won += r.get() ? 1 : 0;
        }
        assertThat(won).isEqualTo(10);
        List<Integer> held = new ArrayList<>(ids.list("pve1", GuestIds.Kind.QEMU));
        held.addAll(ids.list("pve1", GuestIds.Kind.LXC));
        assertThat(held).containsExactlyInAnyOrder(100, 101, 102, 103, 104, 105, 106, 107, 108, 109);
    }
}
