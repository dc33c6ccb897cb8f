package org.corral.access;

import static java.util.Objects.requireNonNull;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Signature;
import java.time.Clock;
import java.util.Base64;
import java.util.Optional;
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
        return sign(Tickets.plain(userid, Tickets.hexTime(clock.instant().getEpochSecond())), Optional.empty());
    }

    /**
     * The half ticket of a login that still owes a second factor: {@code PVE:!tfa!CHALLENGE:HEXTIME::SIGNATURE}
     * with the challenge JSON URL-encoded, as Proxmox's clients read it. The signature also covers
     * the user id (not in the ticket), so it is good only for that user's second step, and never
     * checks out as a ticket.
     */
    public String issueTfa(String challenge, String userid) {
        if (!Ids.isUser(userid)) {
            throw new IllegalArgumentException("invalid user id '" + userid + "'");
        }
        return sign(Tickets.plain(Tickets.TFA_PREFIX + Tickets.encodeChallenge(challenge),
                Tickets.hexTime(clock.instant().getEpochSecond())), Optional.of(userid));
    }

    private String sign(String plain, Optional<String> aad) {
        PrivateKey key = signingKey.get();
        try {
            Signature signature = Signature.getInstance(TicketKeys.ALGORITHM);
            signature.initSign(key);
            signature.update(Tickets.signed(plain, aad).getBytes(StandardCharsets.UTF_8));
            return plain + "::" + Base64.getEncoder().encodeToString(signature.sign());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot sign a ticket with the " + key.getAlgorithm() + " key", e);
        }
    }
}
