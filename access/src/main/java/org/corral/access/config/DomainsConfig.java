package org.corral.access.config;

import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The parsed domains.cfg: realms in file order. The built-in realms {@code pam} and {@code pve}
 * are always there with their types forced, as Proxmox does.
 */
public final class DomainsConfig {
    public static final String PAM_COMMENT = "Linux PAM standard authentication";
    public static final String PVE_COMMENT = "Proxmox VE authentication server";

    private final Map<String, RealmConfig> realms;

    public DomainsConfig(Collection<RealmConfig> realms) {
        Map<String, RealmConfig> copy = new LinkedHashMap<>();
        boolean haveDefault = false;
        for (RealmConfig realm : realms) {
            RealmConfig r = realm;
            if (r.realm().equals("pam") || r.realm().equals("pve")) {
                r = new RealmConfig(r.realm(), r.realm(), r.options());
                if (!ProxmoxText.truthy(r.comment())) {
                    r = r.with("comment", r.realm().equals("pam") ? PAM_COMMENT : PVE_COMMENT);
                }
            }
            // only one realm is the default
            if (r.isDefault()) {
                if (haveDefault) {
                    r = r.without("default");
                }
                haveDefault = true;
            }
            copy.put(r.realm(), r);
        }
        copy.putIfAbsent("pam", new RealmConfig("pam", "pam", Map.of("comment", PAM_COMMENT)));
        copy.putIfAbsent("pve", new RealmConfig("pve", "pve", Map.of("comment", PVE_COMMENT)));
        this.realms = Collections.unmodifiableMap(copy);
    }

    /** domains.cfg with pam and pve only. */
    public static DomainsConfig defaults() {
        return new DomainsConfig(List.of());
    }

    public Map<String, RealmConfig> realms() {
        return realms;
    }

    public Optional<RealmConfig> realm(String realm) {
        return Optional.ofNullable(realms.get(realm));
    }

    /** Adds or replaces a realm; if it is the default, no other realm stays the default. */
    public DomainsConfig withRealm(RealmConfig realm) {
        Map<String, RealmConfig> copy = new LinkedHashMap<>(realms);
        if (realm.isDefault()) {
            copy.replaceAll((id, r) -> r.isDefault() ? r.without("default") : r);
        }
        copy.put(realm.realm(), realm);
        return new DomainsConfig(copy.values());
    }

    public DomainsConfig withoutRealm(String realm) {
        Map<String, RealmConfig> copy = new LinkedHashMap<>(realms);
        copy.remove(realm);
        return new DomainsConfig(copy.values());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DomainsConfig other && realms.equals(other.realms);
    }

    @Override
    public int hashCode() {
        return realms.hashCode();
    }

    @Override
    public String toString() {
        return DomainsCodec.write(this);
    }
}
