package org.corral.server.tls;

import static java.util.Objects.requireNonNull;

/** The text of a certificate chain file and its key file, as read from the cluster config store. */
public record PemPair(String certificates, String key) {
    public PemPair {
        requireNonNull(certificates, "certificates is null");
        requireNonNull(key, "key is null");
    }

    // the key is secret; keep it out of logs
    @Override
    public String toString() {
        return "PemPair[" + certificates.length() + " chars of certificates, key hidden]";
    }
}
