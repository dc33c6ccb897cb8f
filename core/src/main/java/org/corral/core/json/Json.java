package org.corral.core.json;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/** The one JSON mapper; immutable and shared. */
public final class Json {
    private static final JsonMapper MAPPER = JsonMapper.builder().build();

    private Json() {}

    public static JsonMapper mapper() {
        return MAPPER;
    }

    public static String write(Object value) {
        return MAPPER.writeValueAsString(value);
    }

    public static byte[] writeBytes(Object value) {
        return MAPPER.writeValueAsBytes(value);
    }

    public static JsonNode read(String text) {
        return MAPPER.readTree(text);
    }

    public static JsonNode read(byte[] text) {
        return MAPPER.readTree(text);
    }

    public static <T> T read(String text, Class<T> type) {
        return MAPPER.readValue(text, type);
    }

    public static ObjectNode object() {
        return MAPPER.createObjectNode();
    }

    public static ArrayNode array() {
        return MAPPER.createArrayNode();
    }

    public static JsonNode tree(Object value) {
        return MAPPER.valueToTree(value);
    }
}
