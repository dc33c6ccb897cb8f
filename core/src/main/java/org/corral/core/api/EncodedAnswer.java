package org.corral.core.api;

import static java.util.Objects.requireNonNull;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.zip.GZIPOutputStream;
import org.corral.core.json.Json;

/**
 * An answer's {@code data} encoded as JSON once, for handlers that give the same answer to many
 * calls (a cluster view that has not changed). The HTTP layer wraps it into the answer's body and
 * keeps each wrapped form, plain and gzipped, so that a repeated answer costs no encoding.
 */
public final class EncodedAnswer {
    private static final byte[] JSON_PREFIX = "{\"data\":".getBytes(StandardCharsets.UTF_8);
    private static final byte[] EXTJS_PREFIX = "{\"success\":1,\"data\":".getBytes(StandardCharsets.UTF_8);

    private final byte[] data;
    private final AtomicReferenceArray<byte[]> bodies = new AtomicReferenceArray<>(4);

    private EncodedAnswer(byte[] data) {
        this.data = data;
    }

    /** {@code data} encoded now; it must not change afterwards. */
    public static EncodedAnswer of(Object data) {
        return new EncodedAnswer(Json.writeBytes(data));
    }

    /** The JSON of {@code data}. */
    public byte[] data() {
        return data.clone();
    }

    /**
     * The whole body, {@code {"data":...}} or with {@code extjs} {@code {"success":1,"data":...}},
     * gzipped when asked; made once per form.
     */
    public byte[] body(boolean extjs, boolean gzip) {
        int slot = (extjs ? 2 : 0) + (gzip ? 1 : 0);
        byte[] known = bodies.get(slot);
        if (known != null) {
            return known;
        }
        // many callers get a new answer at once: one of them encodes, the others wait for it
        synchronized (this) {
            known = bodies.get(slot);
            if (known == null) {
                known = gzip ? gzip(body(extjs, false)) : wrap(extjs ? EXTJS_PREFIX : JSON_PREFIX);
                bodies.set(slot, known);
            }
            return known;
        }
    }

    /** How many bytes the plain bodies and data hold, for bounding caches. */
    public long size() {
        return data.length * 2L;
    }

    private byte[] wrap(byte[] prefix) {
        byte[] body = new byte[prefix.length + data.length + 1];
        System.arraycopy(prefix, 0, body, 0, prefix.length);
        System.arraycopy(data, 0, body, prefix.length, data.length);
        body[body.length - 1] = '}';
        return body;
    }

    /** {@code bytes} in gzip format (RFC 1952), at the default level as Proxmox's proxy sends them. */
    public static byte[] gzip(byte[] bytes) {
        requireNonNull(bytes, "bytes is null");
        ByteArrayOutputStream out = new ByteArrayOutputStream(Math.max(64, bytes.length / 4));
        try (GZIPOutputStream zip = new GZIPOutputStream(out, 8192)) {
            zip.write(bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}
