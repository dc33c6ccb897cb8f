package org.corral.access;

import static java.util.Objects.requireNonNull;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;
import org.corral.access.tfa.RealmTfa;
import org.corral.access.tfa.Recovery;
import org.corral.access.tfa.TfaConfig;
import org.corral.access.tfa.TfaEntry;
import org.corral.access.tfa.TfaUser;
import org.corral.access.tfa.Totp;
import org.corral.access.tfa.WebAuthn;
import org.corral.core.error.Conflict;
import org.corral.core.error.NotFound;
import org.corral.core.error.ParameterError;
import org.corral.core.json.Json;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;
import tools.jackson.databind.node.StringNode;

/**
 * Second factors as Proxmox VE 7+ keeps them in priv/tfa.cfg: adding, changing and removing
 * entries, the challenge a login answers with, and checking the response to it. A TOTP code is
 * good once (the last used time step is kept per entry), a recovery key once. After
 * {@link #TOTP_FAILURE_LIMIT} failed TOTP codes TOTP is locked until a recovery key is used or an
 * admin unlocks the user; after {@link #TFA_FAILURE_LIMIT} failed second factors of any kind all
 * of them are locked for {@link #TFA_LOCK_SECONDS}. Every change is a compare-and-set write.
 */
public final class TwoFactor {
    public static final int TOTP_FAILURE_LIMIT = 8;
    public static final int TFA_FAILURE_LIMIT = 100;
    public static final long TFA_LOCK_SECONDS = 3600;
    public static final String YUBICO_UNVERIFIABLE =
            "Yubico OTP can't be verified here: it needs the Yubico cloud, which this node does not reach";
    private static final Logger log = LoggerFactory.getLogger(TwoFactor.class);
    private static final Pattern YUBICO_OTP = Pattern.compile("[cbdefghijklnrtuv]{32,64}");

    private static final long REGISTRATION_SECONDS = 120;

    private final AccessFiles files;
    private final Clock clock;
    private final WebAuthn webAuthn = new WebAuthn();
    /** WebAuthn registrations started and not finished yet, by user: the challenge and when it expires. */
    private final ConcurrentHashMap<String, Pending> registrations = new ConcurrentHashMap<>();

    private record Pending(byte[] challenge, long expires) {}

    TwoFactor(AccessFiles files, Clock clock) {
        this.files = requireNonNull(files, "files is null");
        this.clock = requireNonNull(clock, "clock is null");
    }

    /** A second factor that exists but can't be checked on this node; its message may be shown to the user. */
    public static final class Unverifiable extends AuthenticationException {
        public Unverifiable(String reason) {
            super(reason);
        }
    }

    public TfaConfig config() {
        return files.tfa.get();
    }

    private long now() {
        return clock.instant().getEpochSecond();
    }

    private TfaConfig update(UnaryOperator<TfaConfig> change) {
        return files.update(files.tfa, before -> {
            TfaConfig next = change.apply(before.value());
            return next.equals(before.value()) ? before.text() : next.write();
        }, TfaConfig::parse).value();
    }

    private void updateUser(String userid, UnaryOperator<TfaUser> change) {
        update(config -> config.withUser(userid, change.apply(config.user(userid))));
    }

    // ---- the API's view

    /** The entries of a user as GET /access/tfa/{userid} lists them (no secrets). */
    public List<Map<String, Object>> entries(String userid) {
        TfaUser user = config().user(userid);
        List<Map<String, Object>> result = new ArrayList<>();
        for (TfaEntry entry : user.entries()) {
            result.add(describe(entry.type(), entry.id(), entry.description(), entry.created(), entry.enable()));
        }
        user.recovery().ifPresent(r -> result.add(describe("recovery", "recovery", "", r.created(), true)));
        return result;
    }

    public Optional<Map<String, Object>> entry(String userid, String id) {
        return entries(userid).stream().filter(e -> e.get("id").equals(id)).findFirst();
    }

    private static Map<String, Object> describe(String type, String id, String description, long created, boolean enable) {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("type", type);
        map.put("id", id);
        map.put("description", description);
        map.put("created", created);
        if (!enable) {
            map.put("enable", 0);
        }
        return map;
    }

    /** Adds a TOTP key after checking that {@code code} is its current code; answers the new id. */
    public String addTotp(String userid, String description, String uri, String code) {
        Totp totp;
        try {
            totp = Totp.parseUri(uri);
        } catch (IllegalArgumentException e) {
            throw new ParameterError("totp", "invalid TOTP URI: " + e.getMessage());
        }
        OptionalLong step = totp.verify(code.strip(), now(), OptionalLong.empty());
        if (step.isEmpty()) {
            throw new ParameterError("value", "failed to verify TOTP challenge");
        }
        return add(userid, new TfaEntry("totp", newId(), description, now(), true, StringNode.valueOf(uri), step));
    }

    /**
     * Adds a Yubikey by one OTP it produced: its first 12 characters are the key's public id. The
     * OTP itself is only checked for form: checking it needs the Yubico cloud.
     */
    public String addYubico(String userid, String description, String otp) {
        String value = otp.strip();
        if (!YUBICO_OTP.matcher(value).matches()) {
            throw new ParameterError("value", "not a Yubico OTP (32 to 64 modhex characters)");
        }
        log.warn("Added Yubikey {} for {} without verifying it: {}", value.substring(0, 12), userid, YUBICO_UNVERIFIABLE);
        return add(userid, new TfaEntry("yubico", newId(), description, now(), true, StringNode.valueOf(value.substring(0, 12)),
                OptionalLong.empty()));
    }

    private WebAuthn.Settings webAuthnSettings() {
        return WebAuthn.Settings.of(config().settings()).orElseThrow(() -> new ParameterError("type",
                "WebAuthn is not configured: the datacenter's webauthn settings (rp, origin, id) are not set"));
    }

    /** The first step of a WebAuthn registration: the creation options (JSON) for the browser. */
    public String startWebAuthn(String userid) {
        WebAuthn.Settings settings = webAuthnSettings();
        byte[] challenge = WebAuthn.newChallenge();
        registrations.put(userid, new Pending(challenge, now() + REGISTRATION_SECONDS));
        return Json.write(webAuthn.registrationChallenge(settings, userid, challenge, config().user(userid).entries()));
    }

    /** The second step: checks the browser's answer to the challenge this node gave; answers the new id. */
    public String finishWebAuthn(String userid, String description, String challenge, String response) {
        WebAuthn.Settings settings = webAuthnSettings();
        Pending pending = registrations.remove(userid);
        String given;
        try {
            given = Json.read(challenge).path("publicKey").path("challenge").asString("");
        } catch (RuntimeException e) {
            throw new ParameterError("challenge", "not a WebAuthn challenge");
        }
        if (pending == null || pending.expires() < now()
                || !MessageDigest.isEqual(WebAuthn.encode(pending.challenge()).getBytes(StandardCharsets.US_ASCII),
                        given.getBytes(StandardCharsets.US_ASCII))) {
            throw new ParameterError("challenge", "no such WebAuthn registration challenge (expired or used)");
        }
        ObjectNode entry;
        try {
            entry = webAuthn.register(settings, pending.challenge(), response);
        } catch (IllegalArgumentException e) {
            throw new ParameterError("value", e.getMessage());
        }
        return add(userid, new TfaEntry("webauthn", newId(), description, now(), true, entry, OptionalLong.empty()));
    }

    private String add(String userid, TfaEntry entry) {
        updateUser(userid, user -> user.withEntries(list -> {
            list.add(entry);
            return list;
        }));
        log.info("Added {} second factor {} for {}", entry.type(), entry.id(), userid);
        return entry.id();
    }

    private static String newId() {
        return UUID.randomUUID().toString();
    }

    /** Makes new recovery keys; refuses when the user has some. Answers the keys, shown once. */
    public List<String> addRecovery(String userid) {
        List<String> keys = new ArrayList<>();
        Recovery recovery = Recovery.generate(now(), keys);
        updateUser(userid, user -> {
            if (user.recovery().isPresent()) {
                throw new Conflict("user already has recovery keys");
            }
            return user.withRecovery(Optional.of(recovery));
        });
        log.info("Added recovery keys for {}", userid);
        return keys;
    }

    /** Changes the description or the enable flag of an entry (recovery keys have neither). */
    public void change(String userid, String id, Optional<String> description, Optional<Boolean> enable) {
        updateUser(userid, user -> {
            TfaEntry entry = user.entry(id).orElseThrow(() -> new NotFound("no such entry '" + id + "'"));
            TfaEntry next = description.map(entry::withDescription).orElse(entry);
            TfaEntry changed = enable.map(next::withEnable).orElse(next);
            return user.withEntries(list -> {
                list.replaceAll(e -> e.id().equals(id) ? changed : e);
                return list;
            });
        });
    }

    public void delete(String userid, String id) {
        updateUser(userid, user -> {
            if (id.equals("recovery") && user.recovery().isPresent()) {
                return user.withRecovery(Optional.empty());
            }
            user.entry(id).orElseThrow(() -> new NotFound("no such entry '" + id + "'"));
            return user.withEntries(list -> {
                list.removeIf(e -> e.id().equals(id));
                return list;
            });
        });
        log.info("Removed second factor {} of {}", id, userid);
    }

    /** Forgets everything about a user, when the user is deleted. */
    public void removeUser(String userid) {
        update(config -> config.withUser(userid, TfaUser.EMPTY));
    }

    /** Lifts the TOTP lock and the lock of all second factors; answers whether the user was locked. */
    public boolean unlock(String userid) {
        AtomicReference<Boolean> was = new AtomicReference<>(false);
        updateUser(userid, user -> {
            was.set(user.totpLocked() || user.tfaLockedUntil().isPresent() && user.tfaLockedUntil().getAsLong() > now());
            return user.withLocks(false, OptionalLong.empty(), 0, 0);
        });
        return was.get();
    }

    // ---- the login

    /**
     * The challenge a login of {@code userid} must answer, empty when the user needs no second
     * factor: {@code totp}, {@code yubico} (true when offered) and {@code recovery} (the indices
     * of the unused keys), limited to what the realm requires. Refuses the login when the user or
     * realm requires a second factor that can't be given.
     */
    public Optional<ObjectNode> challenge(String userid, Optional<RealmTfa> realm) {
        TfaUser user = config().user(userid);
        if (!user.hasFactors() && realm.isEmpty()) {
            return Optional.empty();
        }
        checkNotLocked(user);
        ObjectNode challenge = Json.object();
        boolean totp = !user.totpLocked() && enabled(user, "totp");
        boolean yubico = enabled(user, "yubico");
        String required = realm.map(RealmTfa::responseType).orElse("");
        if (totp && (required.isEmpty() || required.equals("totp"))) {
            challenge.put("totp", true);
        }
        if (yubico && (required.isEmpty() || required.equals("yubico"))) {
            challenge.put("yubico", true);
        }
        Optional<WebAuthn.Settings> settings = WebAuthn.Settings.of(config().settings());
        if (enabled(user, "webauthn") && settings.isPresent() && required.isEmpty()) {
            challenge.set("webauthn", webAuthn.authenticationChallenge(settings.get(),
                    user.entries().stream().filter(TfaEntry::enable).toList()));
        }
        user.recovery().map(Recovery::available).filter(a -> !a.isEmpty()).ifPresent(available -> {
            ArrayNode indices = challenge.putArray("recovery");
            available.forEach(indices::add);
        });
        if (challenge.isEmpty()) {
            // fail closed: factors exist (or the realm wants one) but none can be answered
            throw new AuthenticationException(realm.isPresent()
                    ? "realm requires " + required + " authentication but the user has no usable " + required + " entry"
                    : "no usable second factor (TOTP locked, or only unsupported factors)");
        }
        return Optional.of(challenge);
    }

    private static boolean enabled(TfaUser user, String type) {
        return user.entries().stream().anyMatch(e -> e.enable() && e.type().equals(type));
    }

    private void checkNotLocked(TfaUser user) {
        if (user.tfaLockedUntil().isPresent() && user.tfaLockedUntil().getAsLong() > now()) {
            throw new AuthenticationException("second factors are locked after too many failures");
        }
    }

    /**
     * Checks {@code response} ({@code totp:CODE}, {@code recovery:KEY}, {@code yubico:OTP}; a bare
     * code is TOTP, as old clients send it in {@code otp}) against {@code challenge}. Uses up the
     * TOTP step or recovery key on success; counts and locks on failure.
     */
    public void verify(String userid, JsonNode challenge, String response, Optional<RealmTfa> realm) {
        int colon = response.indexOf(':');
        String type = colon < 0 ? "totp" : response.substring(0, colon);
        String value = colon < 0 ? response : response.substring(colon + 1);
        if (realm.isPresent() && !type.equals("recovery") && !type.equals(realm.get().responseType())) {
            throw new AuthenticationException("realm requires " + realm.get().responseType() + " authentication");
        }
        checkNotLocked(config().user(userid));
        boolean offered = switch (type) {
            case "recovery" -> challenge.path("recovery").isArray();
            case "webauthn" -> challenge.path("webauthn").isObject();
            default -> challenge.path(type).asBoolean(false);
        };
        if (!offered) {
            failed(userid, false);
            throw new AuthenticationException("no such challenge: " + type);
        }
        switch (type) {
            case "totp" -> verifyTotp(userid, value.strip());
            case "recovery" -> verifyRecovery(userid, value);
            case "yubico" -> throw new Unverifiable(YUBICO_UNVERIFIABLE);
            case "webauthn" -> verifyWebAuthn(userid, challenge.path("webauthn"), value);
            default -> {
                failed(userid, false);
                throw new AuthenticationException("unsupported second factor '" + type + "'");
            }
        }
    }

    private void verifyTotp(String userid, String code) {
        long now = now();
        AtomicReference<String> used = new AtomicReference<>();
        updateUser(userid, user -> {
            used.set(null);
            if (user.totpLocked()) {
                return user;
            }
            for (TfaEntry entry : user.entries()) {
                if (!entry.enable() || !entry.type().equals("totp")) {
                    continue;
                }
                Totp totp;
                try {
                    totp = Totp.parseUri(entry.entry().asString());
                } catch (IllegalArgumentException e) {
                    continue;
                }
                // the last used step is read inside the compare-and-set, so two logins can't both use one code
                OptionalLong step = totp.verify(code, now, entry.lastStep());
                if (step.isPresent()) {
                    used.set(entry.id());
                    TfaEntry next = entry.withLastStep(step.getAsLong());
                    return user.withEntries(list -> {
                        list.replaceAll(e -> e.id().equals(entry.id()) ? next : e);
                        return list;
                    }).withLocks(false, OptionalLong.empty(), 0, 0);
                }
            }
            return user;
        });
        if (used.get() == null) {
            failed(userid, true);
            throw new AuthenticationException("TOTP code not accepted (wrong, reused, or TOTP locked)");
        }
    }

    private void verifyWebAuthn(String userid, JsonNode challenge, String response) {
        WebAuthn.Settings settings = WebAuthn.Settings.of(config().settings())
                .orElseThrow(() -> new AuthenticationException("WebAuthn is not configured"));
        String credentialId;
        try {
            credentialId = WebAuthn.credentialId(response);
        } catch (RuntimeException e) {
            failed(userid, false);
            throw new AuthenticationException("malformed WebAuthn response");
        }
        AtomicReference<Boolean> ok = new AtomicReference<>(false);
        AtomicReference<String> why = new AtomicReference<>("unknown credential");
        updateUser(userid, user -> {
            ok.set(false);
            Optional<TfaEntry> entry = user.entries().stream().filter(e -> e.enable() && e.type().equals("webauthn")
                    && e.entry().path("cred-id").asString("").equals(credentialId)).findFirst();
            if (entry.isEmpty()) {
                return user;
            }
            long counter;
            try {
                // checked inside the compare-and-set: the signature counter must grow, so an answer is good once
                counter = webAuthn.authenticate(settings, challenge, response, entry.get());
            } catch (IllegalArgumentException e) {
                why.set(e.getMessage());
                return user;
            }
            ok.set(true);
            ObjectNode stored = (ObjectNode) entry.get().entry().deepCopy();
            stored.put("counter", counter);
            TfaEntry next = new TfaEntry("webauthn", entry.get().id(), entry.get().description(), entry.get().created(), true, stored,
                    OptionalLong.empty());
            return user.withEntries(list -> {
                list.replaceAll(e -> e.id().equals(next.id()) ? next : e);
                return list;
            }).withLocks(user.totpLocked(), OptionalLong.empty(), user.totpFailures(), 0);
        });
        if (!ok.get()) {
            failed(userid, false);
            throw new AuthenticationException("WebAuthn response not accepted: " + why.get());
        }
    }

    private void verifyRecovery(String userid, String key) {
        AtomicReference<Boolean> ok = new AtomicReference<>(false);
        updateUser(userid, user -> {
            ok.set(false);
            Optional<Integer> index = user.recovery().flatMap(r -> r.find(key));
            if (index.isEmpty()) {
                return user;
            }
            ok.set(true);
            // a recovery key lifts the TOTP lock, as in Proxmox
            return user.withRecovery(Optional.of(user.recovery().get().use(index.get())))
                    .withLocks(false, OptionalLong.empty(), 0, 0);
        });
        if (!ok.get()) {
            failed(userid, false);
            throw new AuthenticationException("recovery key not accepted");
        }
        log.info("Recovery key used by {}", userid);
    }

    private void failed(String userid, boolean totp) {
        long now = now();
        updateUser(userid, user -> {
            int totpFailures = user.totpFailures() + (totp ? 1 : 0);
            int tfaFailures = user.tfaFailures() + 1;
            boolean totpLocked = user.totpLocked() || totpFailures >= TOTP_FAILURE_LIMIT;
            OptionalLong until = user.tfaLockedUntil();
            if (tfaFailures >= TFA_FAILURE_LIMIT) {
                until = OptionalLong.of(now + TFA_LOCK_SECONDS);
                tfaFailures = 0;
            }
            return user.withLocks(totpLocked, until, totpFailures, tfaFailures);
        });
        TfaUser after = config().user(userid);
        if (after.totpLocked()) {
            log.warn("TOTP of {} is locked after {} failures", userid, after.totpFailures());
        }
    }
}
