package org.corral.access.config;

import java.io.ByteArrayOutputStream;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import org.corral.core.config.ConfigWriter;

/**
 * The small text conventions of Proxmox's colon-separated config files: how free text is escaped,
 * how lists are split, what counts as true, and the byte order keys are sorted in.
 */
public final class ProxmoxText {
    /** Sorts as Perl's {@code sort} does on UTF-8 strings: by code point. */
    public static final Comparator<String> BYTE_ORDER = ProxmoxText::compareCodePoints;

    private ProxmoxText() {}

    /**
     * Escapes free text for a colon-separated line: every byte of the UTF-8 form outside
     * 0x20-0x39 and 0x3b-0x7e (control bytes, ':' and non-ASCII) becomes {@code %XX}.
     */
    public static String encode(String text) {
        return ConfigWriter.encodeText(text);
    }

    /** Reverses {@link #encode}: {@code %XX} sequences become bytes, the result is read as UTF-8. */
    public static String decode(String text) {
        if (text.indexOf('%') < 0) {
            return text;
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(text.length());
        byte[] raw = text.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < raw.length; i++) {
            if (raw[i] == '%' && i + 2 < raw.length && hex(raw[i + 1]) >= 0 && hex(raw[i + 2]) >= 0) {
                bytes.write(hex(raw[i + 1]) << 4 | hex(raw[i + 2]));
                i += 2;
            } else {
                bytes.write(raw[i]);
            }
        }
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes.toByteArray())).toString();
        } catch (CharacterCodingException e) {
            // not UTF-8 after unescaping: keep the text as it stands rather than lose it
            return text;
        }
    }

    private static int hex(byte b) {
        if (b >= '0' && b <= '9') {
            return b - '0';
        }
        if (b >= 'a' && b <= 'f') {
            return b - 'a' + 10;
        }
        if (b >= 'A' && b <= 'F') {
            return b - 'A' + 10;
        }
        return -1;
    }

    /** Splits a list the way Proxmox's {@code split_list} does: on NULs if any, else on ',', ';' and blanks. */
    public static List<String> splitList(String text) {
        if (text == null || text.isEmpty()) {
            return List.of();
        }
        String[] parts = text.indexOf('\0') >= 0 ? text.split("\0") : text.split("[,;\\s]+");
        return Arrays.stream(parts).filter(s -> !s.isEmpty()).toList();
    }

    /** Perl truthiness of a config field: empty and "0" are false. */
    public static boolean truthy(String value) {
        return value != null && !value.isEmpty() && !value.equals("0");
    }

    /**
     * Splits a config line on ':' as Perl's {@code split(/:/)} does: trailing empty fields are
     * dropped, each field is trimmed.
     */
    public static List<String> splitFields(String line) {
        String[] parts = line.split(":", -1);
        int end = parts.length;
        while (end > 0 && parts[end - 1].isEmpty()) {
            end--;
        }
        String[] fields = new String[end];
        for (int i = 0; i < end; i++) {
            fields[i] = parts[i].strip();
        }
        return Arrays.asList(fields);
    }

    /** The field at {@code index}, or "" past the end (Perl's undef). */
    public static String field(List<String> fields, int index) {
        return index < fields.size() ? fields.get(index) : "";
    }

    private static int compareCodePoints(String a, String b) {
        int i = 0;
        int j = 0;
        while (i < a.length() && j < b.length()) {
            int ca = a.codePointAt(i);
            int cb = b.codePointAt(j);
            if (ca != cb) {
                return Integer.compare(ca, cb);
            }
            i += Character.charCount(ca);
            j += Character.charCount(cb);
        }
        return Integer.compare(a.length() - i, b.length() - j);
    }
}
