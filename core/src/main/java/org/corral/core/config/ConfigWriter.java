package org.corral.core.config;

import static java.util.Objects.requireNonNull;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.corral.core.error.ParameterError;

/**
 * The one way Proxmox-format text is made for the config store: line by line, with every key and
 * value checked so that none can end its line early. A CR, LF or other control character in a
 * value is how Proxmox's config-injection bugs wrote {@code args:} or {@code lxc.*} lines through
 * a harmless option; here it is a {@link ParameterError} naming the option, thrown while the text
 * is being built and so before anything is stored.
 */
public final class ConfigWriter {
    public static final String CONTROL_CHARACTERS = "value must not contain control characters";

    private static final byte[] HEX = "0123456789ABCDEF".getBytes(StandardCharsets.US_ASCII);

    private final StringBuilder out = new StringBuilder();

    /** One named value of a line; {@code name} is the API parameter an error names. */
    public record Field(String name, String value) {
        public Field {
            requireNonNull(name, "name is null");
            requireNonNull(value, "value is null");
        }
    }

    public static Field field(String name, String value) {
        return new Field(name, value);
    }

    /** {@code key: value}, as in guest configs and datacenter.cfg. */
    public ConfigWriter keyValue(String key, String value) {
        checkKey(key, key, ':');
        checkValue(key, value, true);
        out.append(key).append(": ").append(value).append('\n');
        return this;
    }

    /** A section-config header {@code type: id} (storage.cfg, domains.cfg); {@code idName} is the id's parameter. */
    public ConfigWriter sectionHeader(String type, String idName, String id) {
        checkKey("type", type, ':');
        checkKey(idName, id, ':');
        out.append(type).append(": ").append(id).append('\n');
        return this;
    }

    /** A section-config option line {@code <TAB>key value}. */
    public ConfigWriter option(String key, String value) {
        checkKey(key, key, ' ');
        checkValue(key, value, true);
        out.append('\t').append(key).append(' ').append(value).append('\n');
        return this;
    }

    /** A {@code [name]} section header (snapshots, pending changes); {@code parameter} names the name for errors. */
    public ConfigWriter section(String parameter, String name) {
        checkKey(parameter, name, ']');
        out.append('[').append(name).append("]\n");
        return this;
    }

    /**
     * A {@code [LABEL name]} header with an optional trailing {@code # comment}, as {@code .fw}
     * files head IP sets and security groups; {@code parameter} names the name for errors.
     */
    public ConfigWriter labeledSection(String label, String parameter, String name, Optional<String> comment) {
        checkKey("section", label, ']');
        checkKey(parameter, name, ']');
        out.append('[').append(label).append(' ').append(name).append(']');
        trailingComment(comment);
        out.append('\n');
        return this;
    }

    /**
     * Words joined by single spaces with an optional trailing {@code # comment} (a {@code .fw} rule,
     * alias or IP set line). No word may be empty or hold a space or {@code #}, which would split
     * it or start the comment early.
     */
    public ConfigWriter words(Optional<String> comment, Field... words) {
        for (int i = 0; i < words.length; i++) {
            Field word = words[i];
            checkValue(word.name(), word.value(), false);
            if (word.value().isEmpty() || word.value().chars().anyMatch(c -> c == ' ' || c == '\t' || c == '#')) {
                throw new ParameterError(word.name(), "invalid value '" + word.value() + "'");
            }
            out.append(i == 0 ? "" : " ").append(word.value());
        }
        trailingComment(comment);
        out.append('\n');
        return this;
    }

    private void trailingComment(Optional<String> comment) {
        if (comment.isPresent() && !comment.get().isBlank()) {
            checkValue("comment", comment.get(), true);
            out.append(" # ").append(comment.get());
        }
    }

    /** One {@code #} comment line; {@code text} must already be escaped to one line. */
    public ConfigWriter comment(String parameter, String text) {
        checkValue(parameter, text, true);
        out.append('#').append(text).append('\n');
        return this;
    }

    /** Free text as Proxmox keeps a description: one {@code #} line per line, escaped by {@link #encodeText}. */
    public ConfigWriter description(String text) {
        if (!text.isEmpty()) {
            for (String line : text.split("\n")) {
                out.append('#').append(encodeText(line)).append('\n');
            }
        }
        return this;
    }

    /**
     * Fields joined by {@code separator} (user.cfg and shadow.cfg use ':' and end the line with
     * one more; token.cfg uses ' '). No field may hold the separator, which would shift the rest.
     */
    public ConfigWriter fields(char separator, boolean trailing, Field... fields) {
        for (int i = 0; i < fields.length; i++) {
            Field f = fields[i];
            checkValue(f.name(), f.value(), false);
            if (f.value().indexOf(separator) >= 0) {
                throw new ParameterError(f.name(), "value must not contain '" + separator + "'");
            }
            out.append(i == 0 ? "" : String.valueOf(separator)).append(f.value());
        }
        if (trailing) {
            out.append(separator);
        }
        out.append('\n');
        return this;
    }

    /** A file that holds one value on one line (a storage password). */
    public ConfigWriter line(String parameter, String value) {
        checkValue(parameter, value, false);
        out.append(value).append('\n');
        return this;
    }

    public ConfigWriter blank() {
        out.append('\n');
        return this;
    }

    public String text() {
        return out.toString();
    }

    /**
     * Whether {@code value} holds a character that must not reach a config line (TAB only if allowed).
     * NEL and the Unicode line separators count: a parser's {@code .} stops at them, so a stored
     * value with one makes the whole file unreadable.
     */
    public static boolean hasControl(String value, boolean allowTab) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c < 0x20 && !(allowTab && c == '\t') || c == 0x7f || c == '\u2028' || c == '\u2029' || c == '\u0085') {
                return true;
            }
        }
        return false;
    }

    private static void checkValue(String parameter, String value, boolean allowTab) {
        if (hasControl(value, allowTab)) {
            throw new ParameterError(parameter, CONTROL_CHARACTERS);
        }
    }

    private static void checkKey(String parameter, String key, char terminator) {
        if (hasControl(key, false)) {
            throw new ParameterError(parameter, CONTROL_CHARACTERS);
        }
        if (key.isEmpty() || key.indexOf(terminator) >= 0 || !key.strip().equals(key) || key.indexOf(' ') >= 0) {
            throw new ParameterError(parameter, "invalid name '" + key + "'");
        }
    }

    /** Proxmox's {@code encode_text}: control characters, ':' and non-ASCII bytes (as UTF-8) become {@code %XX}. */
    public static String encodeText(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream encoded = new ByteArrayOutputStream(bytes.length);
        for (byte b : bytes) {
            int c = b & 0xff;
            if (c >= 0x20 && c <= 0x7e && c != ':') {
                encoded.write(c);
            } else {
                encoded.write('%');
                encoded.write(HEX[c >> 4]);
                encoded.write(HEX[c & 0xf]);
            }
        }
        return encoded.toString(StandardCharsets.UTF_8);
    }

    /** Proxmox's {@code decode_text}: {@code %XX} escapes back to bytes, read as UTF-8. */
    public static String decodeText(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream decoded = new ByteArrayOutputStream(bytes.length);
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] == '%' && i + 2 < bytes.length && hex(bytes[i + 1]) >= 0 && hex(bytes[i + 2]) >= 0) {
                decoded.write(hex(bytes[i + 1]) << 4 | hex(bytes[i + 2]));
                i += 2;
            } else {
                decoded.write(bytes[i]);
            }
        }
        return decoded.toString(StandardCharsets.UTF_8);
    }

    private static int hex(byte b) {
        return Character.digit(b, 16);
    }
}
