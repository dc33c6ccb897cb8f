package org.corral.server.http;

import java.util.Optional;
import org.corral.core.access.AuthContext;

/** How the HTTPS layer learns who calls: from a ticket cookie, an API token, or the local root secret. */
public interface RequestAuthenticator {
    /** The caller of a ticket, or empty if the ticket is invalid or expired. */
    Optional<AuthContext> ticket(String ticket, String clientAddress);

    /** Whether a CSRFPreventionToken belongs to the user of a ticket. */
    boolean csrf(String token, String userid);

    /** The caller of an API token ({@code USER@REALM!TOKENID=SECRET}); throws Unauthorized when refused. */
    AuthContext apiToken(String value, String clientAddress);
}
