package org.corral.access.api;

import org.corral.access.Ids;
import org.corral.core.schema.Formats;
import org.corral.core.schema.Schema;

/** Parameter schemas shared by the access API methods, as Proxmox's standard options. */
final class Schemas {
    // Proxmox's email-opt also takes "", which clears the address
    static final String EMAIL_OPT = "|[\\w+\\-~.]+@[A-Za-z0-9\\-]+(\\.[A-Za-z0-9\\-]+)*";

    private Schemas() {}

    static Schema userid() {
        return Schema.string().format(Formats.PVE_USERID).maxLength(64).description("Full User ID, in the `name@realm` format.");
    }

    static Schema tokenSubid() {
        return Schema.string().format(Formats.PVE_TOKENID).maxLength(128).description("User-specific token identifier.");
    }

    static Schema groupid() {
        return Schema.string().format(Formats.PVE_GROUPID).maxLength(128).description("The group ID.");
    }

    static Schema roleid() {
        return Schema.string().format(Formats.PVE_ROLEID).maxLength(128).description("The role ID.");
    }

    static Schema realm() {
        return Schema.string().format(Formats.PVE_REALM).maxLength(32).description("Authentication domain ID");
    }

    static Schema poolid() {
        return Schema.string().format(Formats.PVE_POOLID).maxLength(192).description("The pool ID.");
    }

    static Schema comment() {
        return Schema.string().maxLength(2048).multiLine().optional();
    }

    static Schema digest() {
        return Schema.string().maxLength(64).optional().pattern("[0-9a-fA-F]{40}")
                .description("Prevent changes if current configuration file has a different SHA1 digest. "
                        + "This can be used to prevent concurrent modifications.");
    }

    static Schema tokenExpire() {
        return Schema.integer().minimum(0).optional()
                .description("API token expiration date (seconds since epoch). '0' means no expiration date.");
    }

    static Schema tokenPrivsep() {
        return Schema.bool().optional()
                .description("Restrict API token privileges with separate ACLs (default), or give full privileges of corresponding user.");
    }

    static boolean isFullTokenId(String value) {
        return Ids.token(value).isPresent();
    }
}
