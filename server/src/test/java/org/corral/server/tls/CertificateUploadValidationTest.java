package org.corral.server.tls;

import org.corral.cluster.tls.CertifiedKey;
import org.corral.cluster.tls.KeyType;
import org.corral.cluster.tls.Pem;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.entry;

import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPrivateKey;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.openssl.PKCS8Generator;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.openssl.jcajce.JceOpenSSLPKCS8EncryptorBuilder;
import org.corral.core.error.ParameterError;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** A certificate as bought or got from ACME: a foreign root, an intermediate, and the server's leaf. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CertificateUploadValidationTest {
    private static final List<KeyPurposeId> SERVER =
            List.of(KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth);

    private final SecureRandom random = new SecureRandom();
    private final Instant now = Instant.now();
    private final KeyPair rootKeys = KeyType.EC_P384.generate(random);
    private final X509Certificate root = TestCertificates.certificate("O=Example,CN=Example Root",
            rootKeys.getPublic(), null, rootKeys.getPrivate(), daysAgo(400), inDays(3000), true, List.of());
    private final KeyPair intermediateKeys = KeyType.EC_P256.generate(random);
    private final X509Certificate intermediate = TestCertificates.certificate("O=Example,CN=Example Issuing CA",
            intermediateKeys.getPublic(), root, rootKeys.getPrivate(), daysAgo(300), inDays(2000), true, List.of());
    private final KeyPair rsaKeys = KeyType.RSA_2048.generate(random);
    private final X509Certificate rsaLeaf = leaf(rsaKeys, daysAgo(1), inDays(90), SERVER);
    private final KeyPair ecKeys = KeyType.EC_P256.generate(random);
    private final X509Certificate ecLeaf = leaf(ecKeys, daysAgo(1), inDays(90), SERVER);

    @Test
    void acceptsChainWithIntermediateAndPkcs8Key() throws Exception {
        CertifiedKey key = CustomCertificate.validate(Pem.certificates(List.of(rsaLeaf, intermediate)),
                Pem.privateKey(rsaKeys.getPrivate()));

        assertThat(key.chain()).containsExactly(rsaLeaf, intermediate);
        assertThat(key.privateKey()).isEqualTo(rsaKeys.getPrivate());
        assertThat(NodeTls.keyStore(key).getCertificateChain(NodeTls.ALIAS)).hasSize(2);
    }

    @Test
    void acceptsPkcs1RsaKey() throws Exception {
        String keyPem = TestCertificates.pkcs1(rsaKeys.getPrivate());

        CertifiedKey key = CustomCertificate.validate(Pem.certificate(rsaLeaf), keyPem);

        assertThat(key.certificate()).isEqualTo(rsaLeaf);
        assertThat(key.privateKey().getEncoded()).isEqualTo(rsaKeys.getPrivate().getEncoded());
    }

    @Test
    void acceptsSec1EcKeyWithItsParametersBlock() throws Exception {
        ECPrivateKey ecKey = (ECPrivateKey) ecKeys.getPrivate();
        String keyPem = TestCertificates.ecParameters(ecKey) + TestCertificates.sec1(ecKey, ecKeys.getPublic());

        CertifiedKey key = CustomCertificate.validate(Pem.certificates(List.of(ecLeaf, intermediate)), keyPem);

        assertThat(key.certificate()).isEqualTo(ecLeaf);
    }

    @Test
    void acceptsCertificateWithoutExtendedKeyUsage() {
        X509Certificate plain = leaf(ecKeys, daysAgo(1), inDays(90), List.of());

        CertifiedKey key = CustomCertificate.validate(Pem.certificate(plain), Pem.privateKey(ecKeys.getPrivate()));

        assertThat(key.certificate()).isEqualTo(plain);
    }

    @Test
    void refusesKeyOfAnotherCertificate() {
        KeyPair other = KeyType.RSA_2048.generate(random);

        ParameterError error = refused(Pem.certificate(rsaLeaf), Pem.privateKey(other.getPrivate()));

        assertThat(error.errors()).containsOnlyKeys("key");
        assertThat(error.errors().get("key"))
                .startsWith("key does not match the certificate 'CN=pve.example.com,O=Example Customer'")
                .endsWith("(RSA 2048-bit public key)");
    }

    @Test
    void refusesEcKeyForRsaCertificate() {
        ParameterError error = refused(Pem.certificate(rsaLeaf), Pem.privateKey(ecKeys.getPrivate()));

        assertThat(error.errors()).containsOnlyKeys("key");
        assertThat(error.errors().get("key")).startsWith("key does not match the certificate");
    }

    @Test
    void refusesChainWithTheLeafNotFirst() {
        String reversed = Pem.certificates(List.of(intermediate, rsaLeaf));

        ParameterError error = refused(reversed, Pem.privateKey(rsaKeys.getPrivate()));

        assertThat(error.errors()).containsOnlyKeys("certificates", "key");
        assertThat(error.errors().get("certificates")).contains("did not issue certificate 1",
                "give the server certificate first, then each issuer in turn");
        assertThat(error.errors().get("key")).isEqualTo(
                "key belongs to certificate 2 of the chain; the certificate matching the key must come first");
    }

    @Test
    void refusesExpiredCertificate() {
        Instant expiry = daysAgo(2).truncatedTo(ChronoUnit.SECONDS);
        X509Certificate expired = leaf(rsaKeys, daysAgo(100), expiry, SERVER);

        ParameterError error = refused(Pem.certificate(expired), Pem.privateKey(rsaKeys.getPrivate()));

        assertThat(error.errors()).containsOnlyKeys("certificates");
        assertThat(error.errors().get("certificates"))
                .isEqualTo("certificate 'CN=pve.example.com,O=Example Customer' expired on " + expiry);
    }

    @Test
    void refusesCertificateNotYetValid() {
        X509Certificate future = leaf(rsaKeys, inDays(5), inDays(95), SERVER);

        ParameterError error = refused(Pem.certificate(future), Pem.privateKey(rsaKeys.getPrivate()));

        assertThat(error.errors().get("certificates")).contains("is not valid before");
    }

    @Test
    void refusesCertificateForClientsOnly() {
        X509Certificate client = leaf(rsaKeys, daysAgo(1), inDays(90), List.of(KeyPurposeId.id_kp_clientAuth));

        ParameterError error = refused(Pem.certificate(client), Pem.privateKey(rsaKeys.getPrivate()));

        assertThat(error.errors().get("certificates"))
                .endsWith("is not for TLS servers (its extended key usage lacks serverAuth)");
    }

    @Test
    void refusesGarbageNamingEachParameter() {
        String brokenKey = "-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n";

        ParameterError error = refused("this is no certificate", brokenKey);

        assertThat(error.errors()).containsOnlyKeys("certificates", "key");
        assertThat(error.errors().get("certificates")).startsWith("no PEM certificate found");
        assertThat(error.errors().get("key")).startsWith("not a valid PEM private key");
        assertThat(error.status()).isEqualTo(400);
    }

    @Test
    void refusesEmptyInputNamingEachParameter() {
        ParameterError error = refused("", " \n");

        assertThat(error.errors()).containsExactly(
                entry("certificates", "no certificate given"),
                entry("key", "no private key given"));
        assertThat(error.getMessage()).isEqualTo(
                "Parameter verification failed. certificates: no certificate given key: no private key given");
    }

    // the JDK has no AES/CBC/PKCS7Padding; a provider instance, never registered, encrypts the test key
    @Test
    void refusesEncryptedKey() throws Exception {
        var encryptor = new JceOpenSSLPKCS8EncryptorBuilder(PKCS8Generator.AES_256_CBC)
                .setProvider(new BouncyCastleProvider())
                .setPassword("secret".toCharArray())
                .build();
        var encrypted = new JcaPKCS8Generator(rsaKeys.getPrivate(), encryptor).generate();
        String keyPem = Pem.encode(encrypted.getType(), encrypted.getContent());

        ParameterError error = refused(Pem.certificate(rsaLeaf), keyPem);

        assertThat(keyPem).startsWith("-----BEGIN ENCRYPTED PRIVATE KEY-----");
        assertThat(error.errors().get("key")).startsWith("encrypted private keys are not supported");
    }

    @Test
    void refusesWeakRsaKey() {
        KeyPair weak = weakRsa();
        X509Certificate certificate = leaf(weak, daysAgo(1), inDays(90), SERVER);

        ParameterError error = refused(Pem.certificate(certificate), Pem.privateKey(weak.getPrivate()));

        assertThat(error.errors().get("key")).isEqualTo("RSA key of 1024 bits is too weak; use at least 2048 bits");
    }

    private Instant daysAgo(int days) {
        return now.minus(days, ChronoUnit.DAYS);
    }

    private Instant inDays(int days) {
        return now.plus(days, ChronoUnit.DAYS);
    }

    private X509Certificate leaf(KeyPair keys, Instant notBefore, Instant notAfter, List<KeyPurposeId> usages) {
        return TestCertificates.certificate("O=Example Customer,CN=pve.example.com", keys.getPublic(), intermediate,
                intermediateKeys.getPrivate(), notBefore, notAfter, false, usages, "pve.example.com");
    }

    private static ParameterError refused(String certificates, String key) {
        ParameterError error = catchThrowableOfType(ParameterError.class,
                () -> CustomCertificate.validate(certificates, key));
        assertThat(error).as("validation error").isNotNull();
        return error;
    }

    private static KeyPair weakRsa() {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
            generator.initialize(1024);
            return generator.generateKeyPair();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
