package org.corral.core.api;

import static java.util.Objects.requireNonNull;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.zip.GZIPOutputStream;
import org.corral.core.json.Json;

/**
 * An answer encoded as JSON once, for handlers that give the same answer to many calls (a
 * cluster view that has not changed). The HTTP layer sends its body as it is and keeps each other
 * form (the extjs wrapping, gzip) once made, so that a repeated answer costs no encoding.
 */
public final class EncodedAnswer {
    private static final byte[] EXTJS_PREFIX = "{\"success\":1,".getBytes(StandardCharsets.UTF_8);

    /** Index 0: {@code {"data":...}}; 1: gzipped; 2: extjs; 3: extjs gzipped. */
    private final AtomicReferenceArray<byte[]> bodies = new AtomicReferenceArray<>(4);

    private EncodedAnswer(byte[] body) {
        bodies.set(0, body);
    }

    /** An answer with {@code data}, encoded now; {@code data} must not change afterwards. */
    public static EncodedAnswer of(Object data) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("data", data);
        return new EncodedAnswer(Json.writeBytes(body));
    }

    /**
     * The whole body, {@code {"data":...}} or with {@code extjs} {@code {"success":1,"data":...}},
     * gzipped when asked; each form is made once.
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
                known = gzip ? gzip(body(extjs, false)) : extjs(bodies.get(0));
                bodies.set(slot, known);
            }
            return known;
        }
    }

    /** How many bytes the forms made so far hold, for bounding caches. */
    public long size() {
        long size = 0;
        for (int i = 0; i < bodies.length(); i++) {
            byte[] body = bodies.get(i);
            size += body == null ? 0 : body.length;
        }
        return size;
    }

    /** {@code {"data":...}} as {@code {"success":1,"data":...}}. */
    private static byte[] extjs(byte[] json) {
        byte[] body = new byte[EXTJS_PREFIX.length + json.length - 1];
        System.arraycopy(EXTJS_PREFIX, 0, body, 0, EXTJS_PREFIX.length);
        System.arraycopy(json, 1, body, EXTJS_PREFIX.length, json.length - 1);
        return body;
    }

    /** {@code bytes} in gzip format (RFC 1952), at zlib's default level. */
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
