package org.corral.access;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * What the pool API shows of a pool's members, and whether they still exist. The server wires in
 * the guest and storage modules; access alone only knows the ids.
 */
public interface PoolMembers {
    /** The entry of a guest as GET /pools/{poolid} lists it; empty if there is no such guest. */
    Optional<Map<String, Object>> guest(int vmid);

    /** The entry of a storage as GET /pools/{poolid} lists it; empty if there is no such storage. */
    Optional<Map<String, Object>> storage(String storeid);

    /** Knows nothing beyond the ids: every member exists. */
    PoolMembers IDS_ONLY = new PoolMembers() {
        @Override
        public Optional<Map<String, Object>> guest(int vmid) {
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("vmid", vmid);
            return Optional.of(entry);
        }

        @Override
        public Optional<Map<String, Object>> storage(String storeid) {
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("id", "storage/" + storeid);
            entry.put("type", "storage");
            entry.put("storage", storeid);
            return Optional.of(entry);
        }
    };
}
