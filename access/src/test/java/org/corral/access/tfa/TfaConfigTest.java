package org.corral.access.tfa;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.OptionalLong;
import org.corral.core.json.Json;
import org.junit.jupiter.api.Test;

class TfaConfigTest {
    /** A tfa.cfg as Proxmox VE writes it: settings at the top, per user entries by type, recovery keys, locks. */
    private static final String PROXMOX = """
            {"users":{"joe@pve":{"totp":[{"id":"totp-1","description":"phone","created":1700000000,\
            "entry":"otpauth://totp/pve:joe?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"}],\
            "u2f":[{"id":"u2f-1","description":"old key","created":1600000000,"enable":false,"entry":{"key":"k","handle":"h"}}],\
            "recovery":{"secret":"00ff","entries":["aa",null,"bb"],"created":1700000001},\
            "totp-locked":true,"tfa-locked-until":1800000000}},\
            "webauthn":{"rp":"pve","origin":"https://pve.example:8006","id":"pve.example"},"u2f":{"appid":"x"}}
            """;

    @Test
    void proxmoxLayoutIsReadAndWrittenBackWithNothingLost() {
        TfaConfig config = TfaConfig.parse(PROXMOX);
        TfaUser joe = config.user("joe@pve");

        assertThat(joe.entries()).extracting(TfaEntry::type).containsExactly("totp", "u2f");
        assertThat(joe.entry("u2f-1").orElseThrow().enable()).isFalse();
        assertThat(joe.recovery().orElseThrow().available()).containsExactly(0, 2);
        assertThat(joe.totpLocked()).isTrue();
        assertThat(joe.tfaLockedUntil()).isEqualTo(OptionalLong.of(1_800_000_000L));
        assertThat(WebAuthn.Settings.of(config.settings())).contains(
                new WebAuthn.Settings("pve", "https://pve.example:8006", "pve.example"));

        assertThat(Json.read(config.write())).isEqualTo(Json.read(PROXMOX));
        assertThat(TfaConfig.parse(config.write())).isEqualTo(config);
    }

    @Test
    void aUserWithNothingLeftIsDropped() {
        TfaConfig config = TfaConfig.parse(PROXMOX).withUser("joe@pve", TfaUser.EMPTY);
        assertThat(Json.read(config.write()).path("users").isEmpty()).isTrue();
        assertThat(TfaConfig.parse("")).isEqualTo(TfaConfig.EMPTY);
    }
}
