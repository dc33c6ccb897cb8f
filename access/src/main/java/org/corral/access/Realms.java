package org.corral.access;

import static java.util.Objects.requireNonNull;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** The realm types this node can authenticate with, by type name. */
public final class Realms {
    /** Types Proxmox VE knows; a realm of one of these that is not registered is refused clearly. */
    public static final Set<String> PROXMOX_TYPES = Set.of("pam", "pve", "ldap", "ad", "openid");

    private final Map<String, Realm> byType;

    public Realms(List<Realm> realms) {
        Map<String, Realm> map = new LinkedHashMap<>();
        for (Realm realm : realms) {
            if (map.putIfAbsent(realm.type(), requireNonNull(realm, "realm is null")) != null) {
                throw new IllegalArgumentException("realm type '" + realm.type() + "' registered twice");
            }
        }
        this.byType = Map.copyOf(map);
    }

    public Optional<Realm> get(String type) {
        return Optional.ofNullable(byType.get(type));
    }

    public Set<String> types() {
        return byType.keySet();
    }
}
