package org.corral.access.tfa;

import static java.util.Objects.requireNonNull;

import com.webauthn4j.WebAuthnManager;
import com.webauthn4j.converter.AttestedCredentialDataConverter;
import com.webauthn4j.converter.util.ObjectConverter;
import com.webauthn4j.credential.CredentialRecordImpl;
import com.webauthn4j.data.AuthenticationData;
import com.webauthn4j.data.AuthenticationParameters;
import com.webauthn4j.data.PublicKeyCredentialParameters;
import com.webauthn4j.data.PublicKeyCredentialType;
import com.webauthn4j.data.RegistrationData;
import com.webauthn4j.data.RegistrationParameters;
import com.webauthn4j.data.attestation.authenticator.AttestedCredentialData;
import com.webauthn4j.data.attestation.statement.COSEAlgorithmIdentifier;
import com.webauthn4j.data.attestation.statement.NoneAttestationStatement;
import com.webauthn4j.data.client.Origin;
import com.webauthn4j.data.client.challenge.DefaultChallenge;
import com.webauthn4j.server.ServerProperty;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import org.corral.core.json.Json;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * WebAuthn (FIDO2) registration and login on webauthn4j. The relying party comes from the
 * {@code webauthn} settings ({@code rp}, {@code origin}, {@code id}) that Proxmox keeps in
 * datacenter.cfg and mirrors into tfa.cfg. A registered credential is stored as its credential
 * id, webauthn4j's attested-credential-data bytes and the signature counter.
 */
public final class WebAuthn {
    private static final Base64.Encoder B64URL = Base64.getUrlEncoder().withoutPadding();
    private static final Base64.Decoder B64URL_DECODE = Base64.getUrlDecoder();
    private static final List<PublicKeyCredentialParameters> ALGORITHMS = List.of(
            new PublicKeyCredentialParameters(PublicKeyCredentialType.PUBLIC_KEY, COSEAlgorithmIdentifier.ES256),
            new PublicKeyCredentialParameters(PublicKeyCredentialType.PUBLIC_KEY, COSEAlgorithmIdentifier.EdDSA),
            new PublicKeyCredentialParameters(PublicKeyCredentialType.PUBLIC_KEY, COSEAlgorithmIdentifier.RS256));

    private final WebAuthnManager manager = WebAuthnManager.createNonStrictWebAuthnManager();
    private final AttestedCredentialDataConverter converter = new AttestedCredentialDataConverter(new ObjectConverter());

    /** The relying party: its name, the origin browsers report, and its id (the host name). */
    public record Settings(String rp, String origin, String id) {
        public Settings {
            requireNonNull(rp, "rp is null");
            requireNonNull(origin, "origin is null");
            requireNonNull(id, "id is null");
        }

        /** The settings in tfa.cfg's top-level {@code webauthn} object, if complete. */
        public static Optional<Settings> of(ObjectNode tfaSettings) {
            JsonNode node = tfaSettings.path("webauthn");
            if (!node.path("origin").isString() || !node.path("id").isString()) {
                return Optional.empty();
            }
            return Optional.of(new Settings(node.path("rp").asString(node.path("id").asString()), node.path("origin").asString(),
                    node.path("id").asString()));
        }
    }

    public static byte[] newChallenge() {
        byte[] challenge = new byte[32];
        new SecureRandom().nextBytes(challenge);
        return challenge;
    }

    public static String encode(byte[] data) {
        return B64URL.encodeToString(data);
    }

    /** The {@code publicKey} creation options a browser's navigator.credentials.create() takes. */
    public ObjectNode registrationChallenge(Settings settings, String userid, byte[] challenge, List<TfaEntry> existing) {
        ObjectNode root = Json.object();
        ObjectNode key = root.putObject("publicKey");
        key.putObject("rp").put("id", settings.id()).put("name", settings.rp());
        key.putObject("user").put("id", encode(userid.getBytes(StandardCharsets.UTF_8))).put("name", userid).put("displayName", userid);
        key.put("challenge", encode(challenge));
        ArrayNode algorithms = key.putArray("pubKeyCredParams");
        ALGORITHMS.forEach(a -> algorithms.addObject().put("type", "public-key").put("alg", a.getAlg().getValue()));
        key.put("timeout", 60000);
        key.put("attestation", "none");
        ArrayNode exclude = key.putArray("excludeCredentials");
        credentialIds(existing).forEach(id -> exclude.addObject().put("type", "public-key").put("id", id));
        return root;
    }

    /** Checks a navigator.credentials.create() answer against the challenge; answers the entry to store. */
    public ObjectNode register(Settings settings, byte[] challenge, String response) {
        RegistrationData data;
        try {
            data = manager.verifyRegistrationResponseJSON(withRawId(response), new RegistrationParameters(
                    serverProperty(settings, challenge), ALGORITHMS, false, true));
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("WebAuthn registration failed: " + e.getMessage(), e);
        }
        var authenticatorData = data.getAttestationObject().getAuthenticatorData();
        AttestedCredentialData credential = authenticatorData.getAttestedCredentialData();
        ObjectNode entry = Json.object();
        entry.put("cred-id", encode(credential.getCredentialId()));
        entry.put("credential", encode(converter.convert(credential)));
        entry.put("counter", authenticatorData.getSignCount());
        return entry;
    }

    /** The {@code publicKey} request options for a login with any of {@code entries}. */
    public ObjectNode authenticationChallenge(Settings settings, List<TfaEntry> entries) {
        ObjectNode root = Json.object();
        ObjectNode key = root.putObject("publicKey");
        key.put("challenge", encode(newChallenge()));
        key.put("rpId", settings.id());
        key.put("timeout", 60000);
        key.put("userVerification", "discouraged");
        ArrayNode allow = key.putArray("allowCredentials");
        credentialIds(entries).forEach(id -> allow.addObject().put("type", "public-key").put("id", id));
        return root;
    }

    /** The id of the credential a navigator.credentials.get() answer is from. */
    public static String credentialId(String response) {
        JsonNode node = Json.read(response);
        return node.path("rawId").asString(node.path("id").asString(""));
    }

    /**
     * Checks a navigator.credentials.get() answer against the challenge and the stored
     * credential; answers the new signature counter.
     */
    public long authenticate(Settings settings, JsonNode challenge, String response, TfaEntry entry) {
        byte[] expected = B64URL_DECODE.decode(challenge.path("publicKey").path("challenge").asString());
        AttestedCredentialData credential = converter.convert(B64URL_DECODE.decode(entry.entry().path("credential").asString()));
        CredentialRecordImpl record = new CredentialRecordImpl(new NoneAttestationStatement(), null, null, null,
                entry.entry().path("counter").asLong(0), credential, null, null, null, null);
        try {
            AuthenticationData data = manager.verifyAuthenticationResponseJSON(withRawId(response), new AuthenticationParameters(
                    serverProperty(settings, expected), record, List.of(credential.getCredentialId()), false, true));
            return data.getAuthenticatorData().getSignCount();
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("WebAuthn login failed: " + e.getMessage(), e);
        }
    }

    private static ServerProperty serverProperty(Settings settings, byte[] challenge) {
        return new ServerProperty(new Origin(settings.origin()), settings.id(), new DefaultChallenge(challenge));
    }

    private static List<String> credentialIds(List<TfaEntry> entries) {
        return entries.stream().filter(e -> e.type().equals("webauthn")).map(e -> e.entry().path("cred-id").asString(""))
                .filter(id -> !id.isEmpty()).toList();
    }

    /** Proxmox's GUI sends {@code id} without {@code rawId}; webauthn4j wants both. */
    private static String withRawId(String response) {
        JsonNode node = Json.read(response);
        if (node instanceof ObjectNode object && !object.has("rawId") && object.path("id").isString()) {
            object.put("rawId", object.path("id").asString());
            if (!object.has("clientExtensionResults")) {
                object.putObject("clientExtensionResults");
            }
            return Json.write(object);
        }
        return response;
    }
}
