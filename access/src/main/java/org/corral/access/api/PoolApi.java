package org.corral.access.api;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedSet;
import java.util.TreeSet;
import org.corral.access.AccessService;
import org.corral.access.PoolMembers;
import org.corral.access.config.Pool;
import org.corral.access.config.ProxmoxText;
import org.corral.access.config.UserConfig;
import org.corral.core.access.AuthContext;
import org.corral.core.access.Privilege;
import org.corral.core.api.ApiMethod;
import org.corral.core.api.ApiModule;
import org.corral.core.api.ApiRequest;
import org.corral.core.api.Check;
import org.corral.core.error.Conflict;
import org.corral.core.error.NotFound;
import org.corral.core.error.ParameterError;
import org.corral.core.schema.Formats;
import org.corral.core.schema.Schema;

/**
 * /pools: resource pools, named sets of guests and storages whose ACLs on /pool/NAME apply to
 * the members. Nested pools ({@code a/b}) are reached with the {@code poolid} parameter of
 * /pools, as in Proxmox VE 8.
 */
public final class PoolApi implements ApiModule {
    private final AccessService access;

    public PoolApi(AccessService access) {
        this.access = requireNonNull(access, "access is null");
    }

    private static Schema type() {
        return Schema.string().enumValues("qemu", "lxc", "storage").optional().description("Only list members of this type.");
    }

    private static ApiMethod updateOptions(ApiMethod method) {
        return method
                .parameter("comment", Schemas.comment().description("A comment."))
                .parameter("vms", Schema.string().format(Formats.PVE_VMID + "-list").maxLength(65536).optional()
                        .description("List of guest VMIDs to add or remove from this pool."))
                .parameter("storage", Schema.string().format(Formats.PVE_STORAGE_ID + "-list").maxLength(65536).optional()
                        .description("List of storage IDs to add or remove from this pool."))
                .parameter("allow-move", Schema.bool().defaultValue(false)
                        .description("Allow adding a guest even if already in another pool. The guest will be removed "
                                + "from its current pool and added to this one."))
                .parameter("delete", Schema.bool().defaultValue(false).description("Remove the passed VMIDs and/or storage IDs instead of adding them."))
                .parameter("digest", Schemas.digest());
    }

    @Override
    public List<ApiMethod> methods() {
        return List.of(
                ApiMethod.get("/pools")
                        .name("index")
                        .description("List pools or get pool configuration.\nList all pools where you have Pool.Audit "
                                + "permissions on /pool/<pool>, or the pool given by 'poolid' with its members.")
                        .permission(Check.authenticated())
                        .parameter("poolid", Schemas.poolid().optional())
                        .parameter("type", type())
                        .returns(Schema.array(Schema.object().property("poolid", Schema.string())))
                        .handler(this::index),
                ApiMethod.post("/pools")
                        .name("create_pool")
                        .description("Create new pool.")
                        .permission(Check.path("/pool/{poolid}", Privilege.POOL_ALLOCATE))
                        .parameter("poolid", Schemas.poolid())
                        .parameter("comment", Schemas.comment().description("A comment."))
                        .handler(this::create),
                updateOptions(ApiMethod.put("/pools")
                        .name("update_pool")
                        .description("Update pool.\nYou also need the right to modify permissions on any object you add/delete.")
                        .permission(Check.path("/pool/{poolid}", Privilege.POOL_ALLOCATE))
                        .parameter("poolid", Schemas.poolid()))
                        .handler(this::update),
                ApiMethod.delete("/pools")
                        .name("delete_pool")
                        .description("Delete pool.\nYou can only delete empty pools (no members).")
                        .permission(Check.path("/pool/{poolid}", Privilege.POOL_ALLOCATE))
                        .parameter("poolid", Schemas.poolid())
                        .handler(this::delete),
                ApiMethod.get("/pools/{poolid}")
                        .name("read_pool")
                        .description("Get pool configuration.")
                        .permission(Check.path("/pool/{poolid}", Privilege.POOL_AUDIT))
                        .parameter("poolid", Schemas.poolid())
                        .parameter("type", type())
                        .returns(Schema.object().property("members", Schema.array(Schema.object())))
                        .handler(this::read),
                updateOptions(ApiMethod.put("/pools/{poolid}")
                        .name("update_pool_deprecated")
                        .description("Update pool data.\nYou also need the right to modify permissions on any object you add/delete.")
                        .permission(Check.path("/pool/{poolid}", Privilege.POOL_ALLOCATE))
                        .parameter("poolid", Schemas.poolid()))
                        .handler(this::update),
                ApiMethod.delete("/pools/{poolid}")
                        .name("delete_pool_deprecated")
                        .description("Delete pool.\nYou can only delete empty pools (no members).")
                        .permission(Check.path("/pool/{poolid}", Privilege.POOL_ALLOCATE))
                        .parameter("poolid", Schemas.poolid())
                        .handler(this::delete));
    }

    private Object index(ApiRequest r) {
        UserConfig users = access.users();
        Optional<String> wanted = r.optionalString("poolid");
        List<Map<String, Object>> result = new ArrayList<>();
        for (Pool pool : users.pools().values()) {
            if (wanted.isPresent() && !wanted.get().equals(pool.poolid())) {
                continue;
            }
            if (!access.has(r.auth(), "/pool/" + pool.poolid(), Privilege.POOL_AUDIT)) {
                continue;
            }
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("poolid", pool.poolid());
            if (!pool.comment().isEmpty()) {
                entry.put("comment", pool.comment());
            }
            if (wanted.isPresent()) {
                entry.put("members", members(pool, r.optionalString("type")));
            }
            result.add(entry);
        }
        if (wanted.isPresent() && result.isEmpty()) {
            if (users.pool(wanted.get()).isEmpty()) {
                throw new NotFound("pool '" + wanted.get() + "' does not exist");
            }
            throw Guards.denied("/pool/" + wanted.get() + ", " + Privilege.POOL_AUDIT.proxmoxName());
        }
        return result;
    }

    private List<Map<String, Object>> members(Pool pool, Optional<String> type) {
        PoolMembers directory = access.settings().poolMembers();
        List<Map<String, Object>> members = new ArrayList<>();
        if (type.isEmpty() || !type.get().equals("storage")) {
            for (int vmid : pool.vms()) {
                directory.guest(vmid)
                        .filter(entry -> type.isEmpty() || type.get().equals(entry.get("type")))
                        .ifPresent(members::add);
            }
        }
        if (type.isEmpty() || type.get().equals("storage")) {
            for (String storage : pool.storage()) {
                directory.storage(storage).ifPresent(members::add);
            }
        }
        return members;
    }

    private Object read(ApiRequest r) {
        String poolid = r.string("poolid");
        Pool pool = access.users().pool(poolid).orElseThrow(() -> new NotFound("pool '" + poolid + "' does not exist"));
        Map<String, Object> result = new LinkedHashMap<>();
        if (!pool.comment().isEmpty()) {
            result.put("comment", pool.comment());
        }
        result.put("members", members(pool, r.optionalString("type")));
        result.put("digest", access.usersDigest());
        return result;
    }

    private Object create(ApiRequest r) {
        String poolid = r.string("poolid");
        access.updateUsers(Optional.empty(), users -> {
            if (users.pool(poolid).isPresent()) {
                throw new Conflict("create pool failed: pool '" + poolid + "' already exists");
            }
            Pool pool = Pool.of(poolid).withComment(r.optionalString("comment").orElse(""));
            pool.parent().ifPresent(parent -> {
                if (users.pool(parent).isEmpty()) {
                    throw new ParameterError("poolid", "parent pool '" + parent + "' does not exist");
                }
            });
            return users.withPool(pool);
        });
        return null;
    }

    private Object update(ApiRequest r) {
        AuthContext auth = r.auth();
        String poolid = r.string("poolid");
        boolean delete = r.bool("delete");
        boolean allowMove = r.bool("allow-move");
        List<Integer> vms = ProxmoxText.splitList(r.optionalString("vms").orElse("")).stream().map(Integer::valueOf).toList();
        List<String> storages = ProxmoxText.splitList(r.optionalString("storage").orElse(""));
        for (int vmid : vms) {
            Guards.permModify(access, auth, "/vms/" + vmid);
        }
        for (String storage : storages) {
            Guards.permModify(access, auth, "/storage/" + storage);
        }
        UserConfig current = access.users();
        if (allowMove && !delete) {
            for (int vmid : vms) {
                Optional<String> other = current.poolOfVm(vmid).filter(p -> !p.equals(poolid));
                if (other.isPresent() && !access.has(auth, "/pool/" + other.get(), Privilege.POOL_ALLOCATE)) {
                    throw Guards.denied("/pool/" + other.get() + ", " + Privilege.POOL_ALLOCATE.proxmoxName());
                }
            }
        }
        access.updateUsers(r.optionalString("digest"), users -> {
            Pool pool = users.pool(poolid).orElseThrow(() -> new NotFound("update pools failed: pool '" + poolid + "' does not exist"));
            UserConfig next = users;
            if (r.has("comment")) {
                pool = pool.withComment(r.string("comment"));
            }
            SortedSet<Integer> members = new TreeSet<>(pool.vms());
            for (int vmid : vms) {
                if (delete) {
                    if (!members.remove(vmid)) {
                        throw new ParameterError("vms", "VM " + vmid + " is not a pool member");
                    }
                } else {
                    if (members.contains(vmid)) {
                        throw new ParameterError("vms", "VM " + vmid + " is already a pool member");
                    }
                    Optional<String> other = next.poolOfVm(vmid);
                    if (other.isPresent()) {
                        if (!allowMove) {
                            throw new ParameterError("vms", "VM " + vmid + " belongs already to pool '" + other.get()
                                    + "' and 'allow-move' is not set");
                        }
                        Pool from = next.pool(other.get()).orElseThrow();
                        SortedSet<Integer> remaining = new TreeSet<>(from.vms());
                        remaining.remove(vmid);
                        next = next.withPool(from.withVms(remaining));
                    }
                    members.add(vmid);
                }
            }
            SortedSet<String> storage = new TreeSet<>(pool.storage());
            for (String storeid : storages) {
                if (delete) {
                    if (!storage.remove(storeid)) {
                        throw new ParameterError("storage", "Storage '" + storeid + "' is not a pool member");
                    }
                } else if (!storage.add(storeid)) {
                    throw new ParameterError("storage", "Storage '" + storeid + "' is already a pool member");
                }
            }
            return next.withPool(pool.withVms(members).withStorage(storage));
        });
        return null;
    }

    private Object delete(ApiRequest r) {
        String poolid = r.string("poolid");
        PoolMembers directory = access.settings().poolMembers();
        access.updateUsers(Optional.empty(), users -> {
            Pool pool = users.pool(poolid).orElseThrow(() -> new NotFound("delete pool failed: pool '" + poolid + "' does not exist"));
            for (int vmid : pool.vms()) {
                if (directory.guest(vmid).isPresent()) {
                    throw new Conflict("delete pool failed: pool '" + poolid + "' is not empty (contains VM " + vmid + ")");
                }
            }
            for (String storage : pool.storage()) {
                if (directory.storage(storage).isPresent()) {
                    throw new Conflict("delete pool failed: pool '" + poolid + "' is not empty (contains storage '" + storage + "')");
                }
            }
            for (String other : users.pools().keySet()) {
                if (other.startsWith(poolid + "/")) {
                    throw new Conflict("delete pool failed: pool '" + poolid + "' is not empty (contains pool '" + other + "')");
                }
            }
            return users.withoutPool(poolid);
        });
        return null;
    }
}
