package org.corral.access;

import static java.util.Objects.requireNonNull;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.generators.Argon2BytesGenerator;
import org.bouncycastle.crypto.generators.PKCS5S2ParametersGenerator;
import org.bouncycastle.crypto.params.Argon2Parameters;
import org.bouncycastle.crypto.params.KeyParameter;

/**
 * Password hashes of the pve realm (priv/shadow.cfg). New hashes are Argon2id in PHC string form
 * ({@code $argon2id$v=19$m=19456,t=2,p=1$SALT$HASH}); PBKDF2-SHA256 in passlib form
 * ({@code $pbkdf2-sha256$ROUNDS$SALT$HASH}) and Proxmox's SHA-crypt ({@code $5$}, {@code $6$})
 * are verified too. Anything else is refused.
 */
public final class PasswordHasher {
    /** OWASP's Argon2id minimum: about 45 ms per hash on a small 2-core machine. */
    public static final Argon2 DEFAULT = new Argon2(19_456, 2, 1);

    private static final Pattern ARGON2 = Pattern.compile(
            "\\$argon2(id|i|d)\\$(?:v=(\\d+)\\$)?m=(\\d{1,8}),t=(\\d{1,4}),p=(\\d{1,3})\\$([A-Za-z0-9+/.]+)\\$([A-Za-z0-9+/.]+)");
    private static final Pattern PBKDF2 = Pattern.compile(
            "\\$pbkdf2-sha256\\$(\\d{1,9})\\$([A-Za-z0-9+/.]*)\\$([A-Za-z0-9+/.]+)");
    private static final int MAX_MEMORY_KIB = 1 << 20;
    private static final int MAX_PARALLELISM = 16;
    private static final int MAX_ITERATIONS = 100;

    private final Argon2 parameters;
    private final SecureRandom random = new SecureRandom();

    /** Argon2id cost: memory in KiB, iterations, lanes. */
    public record Argon2(int memoryKib, int iterations, int parallelism) {
        public Argon2 {
            if (memoryKib < 8 * parallelism || iterations < 1 || parallelism < 1) {
                throw new IllegalArgumentException("invalid Argon2 parameters m=" + memoryKib + ",t=" + iterations + ",p=" + parallelism);
            }
        }
    }

    public PasswordHasher() {
        this(DEFAULT);
    }

    public PasswordHasher(Argon2 parameters) {
        this.parameters = requireNonNull(parameters, "parameters is null");
    }

    /** A new Argon2id PHC string for {@code password} with a random 16-byte salt. */
    public String hash(String password) {
        byte[] salt = new byte[16];
        random.nextBytes(salt);
        byte[] out = argon2(Argon2Parameters.ARGON2_id, Argon2Parameters.ARGON2_VERSION_13, parameters, salt,
                password.getBytes(StandardCharsets.UTF_8), 32);
        Base64.Encoder b64 = Base64.getEncoder().withoutPadding();
        return "$argon2id$v=19$m=" + parameters.memoryKib() + ",t=" + parameters.iterations() + ",p="
                + parameters.parallelism() + "$" + b64.encodeToString(salt) + "$" + b64.encodeToString(out);
    }

    /** Whether the hash is of a scheme this class can verify. */
    public static boolean supports(String hash) {
        return ARGON2.matcher(hash).matches() || PBKDF2.matcher(hash).matches() || ShaCrypt.handles(hash);
    }

    /**
     * Whether {@code password} matches {@code hash}. Throws {@link IllegalArgumentException} naming
     * the scheme when the hash is of a kind that is not supported (MD5-crypt, yescrypt, ...).
     */
    public boolean verify(String password, String hash) {
        byte[] key = password.getBytes(StandardCharsets.UTF_8);
        Matcher m = ARGON2.matcher(hash);
        if (m.matches()) {
            int type = switch (m.group(1)) {
                case "id" -> Argon2Parameters.ARGON2_id;
                case "i" -> Argon2Parameters.ARGON2_i;
                default -> Argon2Parameters.ARGON2_d;
            };
            int version = m.group(2) == null || m.group(2).equals("16")
                    ? Argon2Parameters.ARGON2_VERSION_10 : Argon2Parameters.ARGON2_VERSION_13;
            Argon2 cost = new Argon2(Integer.parseInt(m.group(3)), Integer.parseInt(m.group(4)), Integer.parseInt(m.group(5)));
            if (cost.memoryKib() > MAX_MEMORY_KIB || cost.iterations() > MAX_ITERATIONS || cost.parallelism() > MAX_PARALLELISM) {
                throw new IllegalArgumentException("Argon2 hash parameters out of range");
            }
            byte[] expected = base64(m.group(7));
            byte[] actual = argon2(type, version, cost, base64(m.group(6)), key, expected.length);
            return MessageDigest.isEqual(expected, actual);
        }
        m = PBKDF2.matcher(hash);
        if (m.matches()) {
            byte[] expected = base64(m.group(3));
            PKCS5S2ParametersGenerator generator = new PKCS5S2ParametersGenerator(new SHA256Digest());
            generator.init(key, base64(m.group(2)), Integer.parseInt(m.group(1)));
            byte[] actual = ((KeyParameter) generator.generateDerivedMacParameters(expected.length * 8)).getKey();
            return MessageDigest.isEqual(expected, actual);
        }
        if (ShaCrypt.handles(hash)) {
            Optional<String> actual = ShaCrypt.crypt(password, hash);
            if (actual.isEmpty()) {
                throw new IllegalArgumentException("malformed SHA-crypt hash");
            }
            return MessageDigest.isEqual(hash.getBytes(StandardCharsets.UTF_8), actual.get().getBytes(StandardCharsets.UTF_8));
        }
        throw new IllegalArgumentException("unsupported password hash scheme '" + scheme(hash) + "'");
    }

    private static String scheme(String hash) {
        if (hash.startsWith("$")) {
            int end = hash.indexOf('$', 1);
            return end > 0 ? hash.substring(0, end + 1) : hash.substring(0, Math.min(hash.length(), 12));
        }
        return "plain/DES";
    }

    private static byte[] argon2(int type, int version, Argon2 cost, byte[] salt, byte[] password, int length) {
        Argon2BytesGenerator generator = new Argon2BytesGenerator();
        generator.init(new Argon2Parameters.Builder(type).withVersion(version).withMemoryAsKB(cost.memoryKib())
                .withIterations(cost.iterations()).withParallelism(cost.parallelism()).withSalt(salt).build());
        byte[] out = new byte[length];
        generator.generateBytes(password, out);
        return out;
    }

    /** PHC strings use standard base64 without padding; passlib writes '.' for '+'. */
    private static byte[] base64(String text) {
        String standard = text.replace('.', '+');
        int pad = (4 - standard.length() % 4) % 4;
        return Base64.getDecoder().decode(standard + "=".repeat(pad == 3 ? 0 : pad));
    }
}
