package org.corral.access.api;

import static java.util.Objects.requireNonNull;

import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import org.corral.access.AccessService;
import org.corral.access.Ids;
import org.corral.access.Realm;
import org.corral.access.config.RealmConfig;
import org.corral.core.access.AuthContext;
import org.corral.core.access.Privilege;
import org.corral.core.api.ApiMethod;
import org.corral.core.api.ApiModule;
import org.corral.core.api.ApiRequest;
import org.corral.core.api.Check;
import org.corral.core.error.NotFound;
import org.corral.core.error.ParameterError;
import org.corral.core.schema.Schema;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** PUT /access/password. */
public final class PasswordApi implements ApiModule {
    private static final Logger log = LoggerFactory.getLogger(PasswordApi.class);

    private final AccessService access;

    public PasswordApi(AccessService access) {
        this.access = requireNonNull(access, "access is null");
    }

    @Override
    public List<ApiMethod> methods() {
        return List.of(ApiMethod.put("/access/password")
                .name("change_password")
                .description("Change user password.\nEach user is allowed to change their own password. A user can change the "
                        + "password of another user if they have 'Realm.AllocateUser' (on the realm of user <userid>) and "
                        + "'User.Modify' permission on /access/groups/<group> on a group where user <userid> is member of. "
                        + "For the PAM realm, a password change does not take effect cluster-wide, but only applies to the local node.")
                .permission(Check.authenticated())
                .noTokens()
                .parameter("userid", Schemas.userid())
                .parameter("password", Schema.string().minLength(8).maxLength(64).secret().description("The new password."))
                .parameter("confirmation-password", Schema.string().maxLength(64).optional().secret()
                        .description("The current password of the user performing the change."))
                .handler(this::changePassword));
    }

    private Object changePassword(ApiRequest r) {
        AuthContext auth = r.auth();
        String userid = r.string("userid");
        Ids.UserId target = Ids.user(userid).orElseThrow();
        boolean self = Guards.isSelf(auth, userid);
        if (!self) {
            Guards.realmAllocateUser(access, auth, userid);
            Guards.userGroup(access, auth, userid, EnumSet.of(Privilege.USER_MODIFY), Guards.GroupsParam.NONE, Optional.empty());
        }
        if (access.users().user(userid).isEmpty()) {
            throw new NotFound("no such user ('" + userid + "')");
        }
        if (userid.equals(AuthContext.ROOT) && !auth.isRoot()) {
            throw Guards.denied();
        }
        if (!auth.isRoot()) {
            Guards.confirmPassword(access, auth, "confirmation-password", r.optionalString("confirmation-password"),
                    "password is required to modify user");
            if (!self && target.realm().equals("pam")) {
                // host accounts are the host administrator's business
                throw Guards.denied();
            }
        }
        RealmConfig realm = access.realmConfig(target.realm());
        Realm type = access.realmOf(realm).orElseThrow(() ->
                new ParameterError("userid", "realm type '" + realm.type() + "' is not supported"));
        try {
            type.storePassword(realm, target.name(), r.string("password"));
        } catch (UnsupportedOperationException e) {
            throw new ParameterError("userid", e.getMessage());
        }
        log.info("changed password for user '{}'", userid);
        return null;
    }
}
