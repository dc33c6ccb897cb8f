package org.corral.access;

import static java.util.Objects.requireNonNull;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Signature;
import java.time.Clock;
import java.util.Base64;
import java.util.function.Supplier;

/**
 * Signs tickets ({@code PVE:USER@REALM:HEXTIME::SIGNATURE}, the signature in padded base64) with
 * the current private key. Only the login path holds one; everything else checks tickets with a
 * {@link TicketVerifier}.
 */
public final class TicketIssuer {
    private final Supplier<PrivateKey> signingKey;
    private final Clock clock;

    /** {@code signingKey} is asked for each ticket, so it can rotate the key when it is due. */
    public TicketIssuer(Supplier<PrivateKey> signingKey, Clock clock) {
        this.signingKey = requireNonNull(signingKey, "signingKey is null");
        this.clock = requireNonNull(clock, "clock is null");
    }

    public String issue(String userid) {
        if (!Ids.isUser(userid)) {
            throw new IllegalArgumentException("invalid user id '" + userid + "'");
        }
        PrivateKey key = signingKey.get();
        String plain = Tickets.plain(userid, Tickets.hexTime(clock.instant().getEpochSecond()));
        try {
            Signature signature = Signature.getInstance(TicketKeys.ALGORITHM);
            signature.initSign(key);
            signature.update(plain.getBytes(StandardCharsets.UTF_8));
            return plain + "::" + Base64.getEncoder().encodeToString(signature.sign());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot sign a ticket with the " + key.getAlgorithm() + " key", e);
        }
    }
}
