package org.corral.backup.datastore;

import com.github.luben.zstd.ZstdCompressCtx;
import com.github.luben.zstd.ZstdDecompressCtx;
import com.github.luben.zstd.ZstdException;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.zip.CRC32C;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Turns plaintext into a stored blob and back. One codec per thread (it reuses its digest, cipher and zstd
 * contexts). Blob layout, all big-endian:
 * <pre>
 *   magic   8  "CRLBLOB" + mode: 'U' plain, 'Z' zstd, 'E' encrypted, 'C' zstd then encrypted
 *   crc32c  4  over every byte after itself (catches disk corruption without the key)
 *   rawlen  4  plaintext length
 *   iv     12  (encrypted modes only)
 *   data       payload; encrypted modes end with the 16-byte GCM tag
 * </pre>
 * The chunk id (digest) is SHA-256 of the plaintext, or HMAC-SHA256 under the key's id key when encrypted; it is the
 * GCM additional data, so a blob cannot be swapped for another chunk's blob.
 */
public final class ChunkCodec implements AutoCloseable {
    static final int HEADER = 16;
    static final int IV = 12;
    static final int TAG = 16;
    private static final byte[] MAGIC = {'C', 'R', 'L', 'B', 'L', 'O', 'B'};
    // AES-GCM on this JDK is fast only when fed in pieces; one call over 4 MiB is ~50x slower
    private static final int CRYPT_SLICE = 64 * 1024;

    private final CryptKey key;
    private final boolean compress;
    private final MessageDigest sha256;
    private final Mac idMac;
    private final Cipher cipher;
    private final SecretKeySpec aesKey;
    private final SecureRandom random;
    private final ZstdCompressCtx zstd;
    private final ZstdDecompressCtx unzstd;
    private final CRC32C crc = new CRC32C();
    private byte[] scratch = new byte[0];

    public ChunkCodec(CryptKey key, boolean compress) {
        this.key = key;
        this.compress = compress;
        try {
            this.sha256 = MessageDigest.getInstance("SHA-256");
            this.cipher = key == null ? null : Cipher.getInstance("AES/GCM/NoPadding");
        } catch (NoSuchAlgorithmException | javax.crypto.NoSuchPaddingException e) {
            throw new IllegalStateException(e);
        }
        this.idMac = key == null ? null : key.newIdMac();
        this.aesKey = key == null ? null : new SecretKeySpec(key.aesKey(), "AES");
        this.random = key == null ? null : new SecureRandom();
        // level 1 keeps only a 512 KiB window for big inputs; a window as large as the biggest chunk (zstd shrinks it to
        // the input) finds repeats anywhere in a chunk, and measured faster here, not slower
        this.zstd = compress ? new ZstdCompressCtx().setLevel(1).setWindowLog(24) : null;
        this.unzstd = new ZstdDecompressCtx();
    }

    public boolean encrypted() {
        return key != null;
    }

    /** The chunk id of {@code len} bytes of plaintext. */
    public byte[] digest(byte[] data, int off, int len) {
        if (idMac != null) {
            idMac.update(data, off, len);
            return idMac.doFinal();
        }
        sha256.update(data, off, len);
        return sha256.digest();
    }

    /** Encodes plaintext into a blob; {@code aad} binds it to its name (the chunk digest). */
    public byte[] encode(byte[] data, int off, int len, byte[] aad) {
        byte[] payload = data;
        int payloadOff = off;
        int payloadLen = len;
        boolean compressed = false;
        if (compress && len > 0) {
            if (scratch.length < len) {
                scratch = new byte[len];
            }
            try {
                // a destination one byte short of the input: zstd fails when it would not save anything
                int n = zstd.compressByteArray(scratch, 0, len - 1, data, off, len);
                payload = scratch;
                payloadOff = 0;
                payloadLen = n;
                compressed = true;
            } catch (ZstdException incompressible) {
                // stored as is
            }
        }
        if (key == null) {
            byte[] blob = new byte[HEADER + payloadLen];
            System.arraycopy(payload, payloadOff, blob, HEADER, payloadLen);
            header(blob, compressed ? 'Z' : 'U', len);
            return blob;
        }
        byte[] blob = new byte[HEADER + IV + payloadLen + TAG];
        byte[] iv = new byte[IV];
        random.nextBytes(iv);
        System.arraycopy(iv, 0, blob, HEADER, IV);
        try {
            cipher.init(Cipher.ENCRYPT_MODE, aesKey, new GCMParameterSpec(TAG * 8, iv));
            cipher.updateAAD(aad);
            int out = HEADER + IV;
            for (int pos = 0; pos < payloadLen; pos += CRYPT_SLICE) {
                int n = Math.min(CRYPT_SLICE, payloadLen - pos);
                out += cipher.update(payload, payloadOff + pos, n, blob, out);
            }
            out += cipher.doFinal(blob, out);
            if (out != blob.length) {
                throw new IllegalStateException("AES-GCM wrote " + out + " bytes, expected " + blob.length);
            }
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM encryption failed", e);
        }
        header(blob, compressed ? 'C' : 'E', len);
        return blob;
    }

    /** True when the blob's checksum matches its content (no key needed). */
    public boolean crcOk(byte[] blob) {
        if (blob.length < HEADER || !Arrays.equals(blob, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
            return false;
        }
        crc.reset();
        crc.update(blob, 12, blob.length - 12);
        return (int) crc.getValue() == ByteBuffer.wrap(blob).getInt(8);
    }

    public static boolean isEncrypted(byte[] blob) {
        return blob.length > 7 && (blob[7] == 'E' || blob[7] == 'C');
    }

    /**
     * Decodes a blob to its plaintext.
     *
     * @throws CorruptBlobException when the blob is damaged, fails authentication, or needs a key this codec lacks
     */
    public byte[] decode(byte[] blob, byte[] aad) throws CorruptBlobException {
        if (!crcOk(blob)) {
            throw new CorruptBlobException("bad magic or checksum");
        }
        char mode = (char) blob[7];
        int rawLen = ByteBuffer.wrap(blob).getInt(12);
        byte[] payload;
        int payloadOff;
        int payloadLen;
        switch (mode) {
            case 'U', 'Z' -> {
                payload = blob;
                payloadOff = HEADER;
                payloadLen = blob.length - HEADER;
            }
            case 'E', 'C' -> {
                if (key == null) {
                    throw new CorruptBlobException("blob is encrypted and no encryption key was given");
                }
                if (blob.length < HEADER + IV + TAG) {
                    throw new CorruptBlobException("encrypted blob is truncated");
                }
                payloadLen = blob.length - HEADER - IV - TAG;
                payload = new byte[payloadLen];
                payloadOff = 0;
                try {
                    cipher.init(Cipher.DECRYPT_MODE, aesKey, new GCMParameterSpec(TAG * 8, blob, HEADER, IV));
                    cipher.updateAAD(aad);
                    int n = cipher.doFinal(blob, HEADER + IV, payloadLen + TAG, payload, 0);
                    if (n != payloadLen) {
                        throw new CorruptBlobException("decrypted " + n + " bytes, expected " + payloadLen);
                    }
                } catch (AEADBadTagException e) {
                    throw new CorruptBlobException("authentication failed (wrong key or damaged data)");
                } catch (GeneralSecurityException e) {
                    throw new CorruptBlobException("decryption failed: " + e.getMessage());
                }
            }
            default -> throw new CorruptBlobException("unknown blob mode '" + mode + "'");
        }
        if (mode == 'U' || mode == 'E') {
            if (payloadLen != rawLen) {
                throw new CorruptBlobException("length " + payloadLen + " does not match header " + rawLen);
            }
            return payloadOff == 0 && payload.length == payloadLen ? payload : Arrays.copyOfRange(payload, payloadOff, payloadOff + payloadLen);
        }
        byte[] raw = new byte[rawLen];
        try {
            int n = unzstd.decompressByteArray(raw, 0, rawLen, payload, payloadOff, payloadLen);
            if (n != rawLen) {
                throw new CorruptBlobException("decompressed " + n + " bytes, expected " + rawLen);
            }
        } catch (ZstdException e) {
            throw new CorruptBlobException("zstd: " + e.getMessage());
        }
        return raw;
    }

    private void header(byte[] blob, char mode, int rawLen) {
        System.arraycopy(MAGIC, 0, blob, 0, MAGIC.length);
        blob[7] = (byte) mode;
        ByteBuffer b = ByteBuffer.wrap(blob);
        b.putInt(12, rawLen);
        crc.reset();
        crc.update(blob, 12, blob.length - 12);
        b.putInt(8, (int) crc.getValue());
    }

    @Override
    public void close() {
        if (zstd != null) {
            zstd.close();
        }
        unzstd.close();
    }
}
