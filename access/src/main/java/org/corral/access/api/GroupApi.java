package org.corral.access.api;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.corral.access.AccessService;
import org.corral.access.config.Group;
import org.corral.core.access.Privilege;
import org.corral.core.api.ApiMethod;
import org.corral.core.api.ApiModule;
import org.corral.core.api.ApiRequest;
import org.corral.core.api.Check;
import org.corral.core.error.Conflict;
import org.corral.core.error.NotFound;
import org.corral.core.schema.Schema;

/** /access/groups: list, create, read, update and delete groups. */
public final class GroupApi implements ApiModule {
    private static final Set<Privilege> LIST = EnumSet.of(Privilege.USER_MODIFY, Privilege.SYS_AUDIT, Privilege.GROUP_ALLOCATE);

    private final AccessService access;

    public GroupApi(AccessService access) {
        this.access = requireNonNull(access, "access is null");
    }

    @Override
    public List<ApiMethod> methods() {
        return List.of(
                ApiMethod.get("/access/groups")
                        .name("index")
                        .description("Group index.\nThe returned list is restricted to groups where you have 'User.Modify', "
                                + "'Sys.Audit' or 'Group.Allocate' permissions on /access/groups/<group>.")
                        .permission(Check.authenticated())
                        .returns(Schema.array(Schema.object().property("groupid", Schema.string())))
                        .handler(this::index),
                ApiMethod.post("/access/groups")
                        .name("create_group")
                        .description("Create new group.")
                        .permission(Check.path("/access/groups", Privilege.GROUP_ALLOCATE))
                        .parameter("groupid", Schemas.groupid())
                        .parameter("comment", Schemas.comment().description("A comment."))
                        .handler(this::create),
                ApiMethod.get("/access/groups/{groupid}")
                        .name("read_group")
                        .description("Get group configuration.")
                        .permission(Check.pathAny("/access/groups", Privilege.SYS_AUDIT, Privilege.GROUP_ALLOCATE))
                        .parameter("groupid", Schemas.groupid())
                        .returns(Schema.object().property("members", Schema.array(Schema.string())))
                        .handler(this::read),
                ApiMethod.put("/access/groups/{groupid}")
                        .name("update_group")
                        .description("Update group data.")
                        .permission(Check.path("/access/groups", Privilege.GROUP_ALLOCATE))
                        .parameter("groupid", Schemas.groupid())
                        .parameter("comment", Schemas.comment().description("A comment."))
                        .parameter("digest", Schemas.digest())
                        .handler(this::update),
                ApiMethod.delete("/access/groups/{groupid}")
                        .name("delete_group")
                        .description("Delete group.")
                        .permission(Check.path("/access/groups", Privilege.GROUP_ALLOCATE))
                        .parameter("groupid", Schemas.groupid())
                        .handler(this::delete));
    }

    private Object index(ApiRequest r) {
        List<Map<String, Object>> result = new ArrayList<>();
        for (Group group : access.users().groups().values()) {
            if (!access.hasAny(r.auth(), "/access/groups/" + group.groupid(), LIST)) {
                continue;
            }
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("groupid", group.groupid());
            if (!group.comment().isEmpty()) {
                entry.put("comment", group.comment());
            }
            entry.put("users", String.join(",", group.members()));
            result.add(entry);
        }
        return result;
    }

    private Object create(ApiRequest r) {
        String groupid = r.string("groupid");
        access.updateUsers(Optional.empty(), users -> {
            if (users.group(groupid).isPresent()) {
                throw new Conflict("create group failed: group '" + groupid + "' already exists");
            }
            return users.withGroup(Group.of(groupid).withComment(r.optionalString("comment").orElse("")));
        });
        return null;
    }

    private Object read(ApiRequest r) {
        String groupid = r.string("groupid");
        Group group = access.users().group(groupid).orElseThrow(() -> new NotFound("group '" + groupid + "' does not exist"));
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("members", List.copyOf(group.members()));
        if (!group.comment().isEmpty()) {
            result.put("comment", group.comment());
        }
        result.put("digest", access.usersDigest());
        return result;
    }

    private Object update(ApiRequest r) {
        String groupid = r.string("groupid");
        access.updateUsers(r.optionalString("digest"), users -> {
            Group group = users.group(groupid).orElseThrow(() -> new NotFound("update group failed: group '" + groupid + "' does not exist"));
            return r.has("comment") ? users.withGroup(group.withComment(r.string("comment"))) : users;
        });
        return null;
    }

    private Object delete(ApiRequest r) {
        String groupid = r.string("groupid");
        access.updateUsers(Optional.empty(), users -> {
            if (users.group(groupid).isEmpty()) {
                throw new NotFound("delete group failed: group '" + groupid + "' does not exist");
            }
            return users.withoutGroup(groupid);
        });
        return null;
    }
}
