package org.corral.access;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.nimbusds.oauth2.sdk.AuthorizationCode;
import com.nimbusds.oauth2.sdk.ParseException;
import com.nimbusds.oauth2.sdk.ResponseType;
import com.nimbusds.oauth2.sdk.id.Issuer;
import com.nimbusds.oauth2.sdk.pkce.CodeChallenge;
import com.nimbusds.oauth2.sdk.pkce.CodeChallengeMethod;
import com.nimbusds.oauth2.sdk.pkce.CodeVerifier;
import com.nimbusds.openid.connect.sdk.AuthenticationRequest;
import com.nimbusds.openid.connect.sdk.AuthenticationSuccessResponse;
import com.nimbusds.openid.connect.sdk.SubjectType;
import com.nimbusds.openid.connect.sdk.op.OIDCProviderMetadata;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.corral.cluster.tls.CertificateAuthority;
import org.corral.cluster.tls.CertifiedKey;
import org.corral.cluster.tls.SubjectAltNames;
import org.corral.core.json.Json;

/**
 * A small OpenID Connect provider for tests, on the JDK's HTTPS server on a loopback port with a
 * certificate of its own CA: discovery, JWKS, an authorization endpoint that signs in
 * {@link #signIn the configured user} at once and redirects with a code, a token endpoint that
 * checks the client secret, the redirect URI and the PKCE verifier (S256) and answers an RS256 ID
 * token, and userinfo. Knobs make it misbehave: another issuer or a past expiry in the ID token.
 */
public final class TestOpenIdProvider implements AutoCloseable {
    public static final String CLIENT_ID = "corral-test";

    private final CertificateAuthority ca = CertificateAuthority.generate(Clock.systemUTC());
    private final HttpsServer server;
    private final String issuer;
    private final RSAKey signingKey;
    private final String clientSecret;
    private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
    private final Map<String, Grant> codes = new ConcurrentHashMap<>();
    private final Map<String, Map<String, Object>> accessTokens = new ConcurrentHashMap<>();
    private final AtomicInteger refusedTokenRequests = new AtomicInteger();
    private volatile Map<String, Object> user = Map.of("sub", "alice");
    private volatile String idTokenIssuer;
    private volatile Duration idTokenLifetime = Duration.ofMinutes(5);
    private volatile String idTokenAudience = CLIENT_ID;
    private volatile String idTokenNonce;
    private volatile RSAKey idTokenKey;

    private record Grant(String redirectUri, CodeChallenge challenge, String nonce, Map<String, Object> claims) {}

    public TestOpenIdProvider(String clientSecret) throws Exception {
        this.clientSecret = clientSecret;
        this.signingKey = new RSAKeyGenerator(2048).keyID("test-key-1").generate();
        CertifiedKey tlsKey = ca.issue("localhost", new SubjectAltNames(List.of("localhost"),
                List.of(InetAddress.getByName("127.0.0.1"))));
        KeyStore keyStore = KeyStore.getInstance("PKCS12");
        keyStore.load(null, null);
        keyStore.setKeyEntry("tls", tlsKey.privateKey(), new char[0], tlsKey.chain().toArray(Certificate[]::new));
        KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        keys.init(keyStore, new char[0]);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(keys.getKeyManagers(), null, new SecureRandom());
        server = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setHttpsConfigurator(new HttpsConfigurator(context));
        // a browser keeps idle connections open: one thread per exchange, so they never block the node's calls
        server.setExecutor(executor);
        issuer = "https://127.0.0.1:" + server.getAddress().getPort() + "/realms/test";
        idTokenIssuer = issuer;
        server.createContext("/realms/test/.well-known/openid-configuration", this::discovery);
        server.createContext("/realms/test/jwks", exchange -> send(exchange, 200, new JWKSet(signingKey.toPublicJWK()).toString()));
        server.createContext("/realms/test/authorize", this::authorize);
        server.createContext("/realms/test/token", this::token);
        server.createContext("/realms/test/userinfo", this::userinfo);
        server.start();
    }

    public String issuer() {
        return issuer;
    }

    /** TLS that trusts this provider's CA only: the node's outbound TLS in tests. */
    public SSLContext clientTls() throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("ca", ca.certificate());
        TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        factory.init(trust);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, factory.getTrustManagers(), new SecureRandom());
        return context;
    }

    /** The claims of the user the authorization endpoint signs in next ({@code sub} and any others). */
    public void signIn(Map<String, Object> claims) {
        user = Map.copyOf(claims);
    }

    /** The {@code iss} the next ID tokens carry. */
    public void idTokenIssuer(String value) {
        idTokenIssuer = value;
    }

    /** How long the next ID tokens are valid; negative for tokens that expired already. */
    public void idTokenLifetime(Duration value) {
        idTokenLifetime = value;
    }

    /** The {@code aud} of the next ID tokens. */
    public void idTokenAudience(String value) {
        idTokenAudience = value;
    }

    /** The {@code nonce} of the next ID tokens; null for the one the authorization request gave. */
    public void idTokenNonce(String value) {
        idTokenNonce = value;
    }

    /** Signs the next ID tokens with a key that is not in the JWKS (with the JWKS key's id); false for the right key. */
    public void signWithForeignKey(boolean foreign) throws JOSEException {
        idTokenKey = foreign ? new RSAKeyGenerator(2048).keyID(signingKey.getKeyID()).generate() : null;
    }

    /** Puts back every ID token knob: the right issuer, audience, nonce, key and a 5 minute lifetime. */
    public void behave() throws JOSEException {
        idTokenIssuer(issuer);
        idTokenAudience(CLIENT_ID);
        idTokenNonce(null);
        idTokenLifetime(Duration.ofMinutes(5));
        signWithForeignKey(false);
    }

    /** Token requests refused (bad code, redirect URI, client secret or PKCE verifier). */
    public int refusedTokenRequests() {
        return refusedTokenRequests.get();
    }

    private void discovery(HttpExchange exchange) throws IOException {
        OIDCProviderMetadata metadata = new OIDCProviderMetadata(new Issuer(issuer), List.of(SubjectType.PUBLIC),
                URI.create(issuer + "/jwks"));
        metadata.setAuthorizationEndpointURI(URI.create(issuer + "/authorize"));
        metadata.setTokenEndpointURI(URI.create(issuer + "/token"));
        metadata.setUserInfoEndpointURI(URI.create(issuer + "/userinfo"));
        metadata.setIDTokenJWSAlgs(List.of(JWSAlgorithm.RS256));
        metadata.setCodeChallengeMethods(List.of(CodeChallengeMethod.S256));
        metadata.applyDefaults();
        send(exchange, 200, metadata.toJSONObject().toJSONString());
    }

    private void authorize(HttpExchange exchange) throws IOException {
        AuthenticationRequest request;
        try {
            request = AuthenticationRequest.parse(exchange.getRequestURI());
        } catch (ParseException e) {
            send(exchange, 400, "{\"error\":\"invalid_request\"}");
            return;
        }
        if (!request.getClientID().getValue().equals(CLIENT_ID) || !request.getResponseType().equals(ResponseType.CODE)
                || request.getCodeChallenge() == null || !CodeChallengeMethod.S256.equals(request.getCodeChallengeMethod())
                || request.getNonce() == null || !request.getScope().contains("openid")) {
            send(exchange, 400, "{\"error\":\"invalid_request\"}");
            return;
        }
        AuthorizationCode code = new AuthorizationCode();
        codes.put(code.getValue(), new Grant(request.getRedirectionURI().toString(), request.getCodeChallenge(),
                request.getNonce().getValue(), user));
        URI location = new AuthenticationSuccessResponse(request.getRedirectionURI(), code, null, null, request.getState(),
                null, null).toURI();
        exchange.getResponseHeaders().set("Location", location.toString());
        exchange.sendResponseHeaders(302, -1);
        exchange.close();
    }

    private void token(HttpExchange exchange) throws IOException {
        Map<String, String> form = form(new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
        String basic = exchange.getRequestHeaders().getFirst("Authorization");
        String expected = "Basic " + Base64.getEncoder().encodeToString((CLIENT_ID + ":" + clientSecret).getBytes(StandardCharsets.UTF_8));
        Grant grant = codes.remove(form.getOrDefault("code", ""));
        String problem = !"authorization_code".equals(form.get("grant_type")) ? "unsupported_grant_type"
                : !expected.equals(basic) ? "invalid_client"
                : grant == null ? "invalid_grant"
                : !grant.redirectUri().equals(form.get("redirect_uri")) ? "invalid_grant"
                : form.get("code_verifier") == null || !CodeChallenge.compute(CodeChallengeMethod.S256,
                        new CodeVerifier(form.get("code_verifier"))).equals(grant.challenge()) ? "invalid_grant"
                : null;
        if (problem != null) {
            refusedTokenRequests.incrementAndGet();
            send(exchange, problem.equals("invalid_client") ? 401 : 400, "{\"error\":\"" + problem + "\"}");
            return;
        }
        Instant now = Instant.now();
        JWTClaimsSet.Builder claims = new JWTClaimsSet.Builder()
                .issuer(idTokenIssuer)
                .audience(idTokenAudience)
                .issueTime(Date.from(now.minus(idTokenLifetime.isNegative() ? Duration.ofMinutes(10) : Duration.ZERO)))
                .expirationTime(Date.from(now.plus(idTokenLifetime)))
                .claim("nonce", idTokenNonce != null ? idTokenNonce : grant.nonce());
        grant.claims().forEach(claims::claim);
        SignedJWT idToken = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(signingKey.getKeyID()).build(),
                claims.build());
        try {
            RSAKey key = idTokenKey;
            idToken.sign(new RSASSASigner(key != null ? key : signingKey));
        } catch (JOSEException e) {
            throw new IOException(e);
        }
        String accessToken = new AuthorizationCode().getValue();
        accessTokens.put(accessToken, grant.claims());
        Map<String, Object> answer = new LinkedHashMap<>();
        answer.put("access_token", accessToken);
        answer.put("token_type", "Bearer");
        answer.put("expires_in", 300);
        answer.put("id_token", idToken.serialize());
        send(exchange, 200, Json.write(answer));
    }

    private void userinfo(HttpExchange exchange) throws IOException {
        String header = exchange.getRequestHeaders().getFirst("Authorization");
        Map<String, Object> claims = header != null && header.startsWith("Bearer ") ? accessTokens.get(header.substring(7)) : null;
        if (claims == null) {
            send(exchange, 401, "{\"error\":\"invalid_token\"}");
            return;
        }
        send(exchange, 200, Json.write(claims));
    }

    private static Map<String, String> form(String body) {
        Map<String, String> result = new LinkedHashMap<>();
        for (String pair : body.split("&")) {
            int eq = pair.indexOf('=');
            if (eq > 0) {
                result.put(URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
                        URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
            }
        }
        return result;
    }

    private static void send(HttpExchange exchange, int status, String json) throws IOException {
        byte[] body = json.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, body.length);
        exchange.getResponseBody().write(body);
        exchange.close();
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
