package org.corral.core.api;

import java.util.Map;
import org.corral.core.json.Json;
import org.corral.core.schema.Schema;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/** The OpenAPI 3.1 document, derived from the declarations and nothing else. */
public final class OpenApi {
    private OpenApi() {}

    public static ObjectNode document(ApiRegistry registry, String title, String version) {
        ObjectNode doc = Json.object();
        doc.put("openapi", "3.1.0");
        ObjectNode info = doc.putObject("info");
        info.put("title", title);
        info.put("version", version);
        info.put("description", "Proxmox VE-compatible API. Every answer is {\"data\": ...}; "
                + "authenticate with the PVEAuthCookie ticket (plus CSRFPreventionToken on writes) or a PVEAPIToken header.");
        doc.putArray("servers").addObject().put("url", "/api2/json");
        ObjectNode schemes = doc.putObject("components").putObject("securitySchemes");
        schemes.putObject("ticket").put("type", "apiKey").put("in", "cookie").put("name", "PVEAuthCookie");
        schemes.putObject("token").put("type", "apiKey").put("in", "header").put("name", "Authorization")
                .put("description", "PVEAPIToken=USER@REALM!TOKENID=SECRET");
        ObjectNode paths = doc.putObject("paths");
        for (ApiMethod method : registry.methods()) {
            ObjectNode item = paths.has(method.path()) ? (ObjectNode) paths.get(method.path()) : paths.putObject(method.path());
            item.set(method.verb().name().toLowerCase(java.util.Locale.ROOT), operation(method));
        }
        return doc;
    }

    private static ObjectNode operation(ApiMethod method) {
        ObjectNode op = Json.object();
        op.put("operationId", method.verb().name().toLowerCase(java.util.Locale.ROOT)
                + method.path().replaceAll("[{}]", "").replaceAll("[^A-Za-z0-9]+", "_"));
        op.put("summary", method.description().lines().findFirst().orElse(""));
        if (!method.description().isEmpty()) {
            op.put("description", method.description());
        }
        String[] parts = ApiRegistry.segments(method.path());
        op.putArray("tags").add(parts.length == 0 ? "root" : parts[0]);
        op.putObject("x-permissions").put("check", method.check().describe(Map.of()));
        if (method.isExtension()) {
            op.put("x-corral-extension", true);
        }
        if (method.check() instanceof Check.Anonymous) {
            op.putArray("security");
        } else {
            ArrayNode security = op.putArray("security");
            security.addObject().putArray("ticket");
            security.addObject().putArray("token");
        }
        ArrayNode parameters = op.putArray("parameters");
        ObjectNode body = Json.object();
        body.put("type", "object");
        ObjectNode bodyProps = body.putObject("properties");
        ArrayNode bodyRequired = Json.array();
        method.parameters().forEach((name, schema) -> {
            boolean inPath = method.pathVariables().contains(name);
            if (inPath || method.verb().parametersInQuery()) {
                ObjectNode param = parameters.addObject();
                param.put("name", name);
                param.put("in", inPath ? "path" : "query");
                param.put("required", inPath || !schema.isOptional());
                schema.description().ifPresent(d -> param.put("description", d));
                param.set("schema", schema(schema));
            } else {
                bodyProps.set(name, schema(schema));
                if (!schema.isOptional()) {
                    bodyRequired.add(name);
                }
            }
        });
        if (!bodyProps.isEmpty()) {
            if (!bodyRequired.isEmpty()) {
                body.set("required", bodyRequired);
            }
            ObjectNode content = op.putObject("requestBody").putObject("content");
            content.putObject("application/x-www-form-urlencoded").set("schema", body);
            content.putObject("application/json").set("schema", body.deepCopy());
        }
        ObjectNode responses = op.putObject("responses");
        ObjectNode ok = responses.putObject("200");
        ok.put("description", "OK");
        ObjectNode envelope = Json.object();
        envelope.put("type", "object");
        envelope.putObject("properties").set("data", schema(method.returns()));
        ok.putObject("content").putObject("application/json").set("schema", envelope);
        responses.putObject("400").put("description", "Parameter verification failed; errors name each bad parameter");
        responses.putObject("401").put("description", "Authentication failure");
        responses.putObject("403").put("description", "Permission check failed");
        return op;
    }

    /** One schema in JSON Schema 2020-12 terms (OpenAPI 3.1), with Proxmox's format names kept. */
    public static ObjectNode schema(Schema schema) {
        ObjectNode out = Json.object();
        switch (schema.type()) {
            case NULL -> out.put("type", "null");
            case ANY -> { }
            default -> out.put("type", schema.type().jsonName());
        }
        schema.description().ifPresent(d -> out.put("description", d));
        schema.format().ifPresent(f -> out.put("format", f));
        schema.propertyFormat().ifPresent(f -> out.put("x-property-string", f.typeText()));
        schema.defaultValue().ifPresent(v -> out.set("default", Json.tree(v)));
        schema.minimum().ifPresent(v -> out.set("minimum", Json.tree(v)));
        schema.maximum().ifPresent(v -> out.set("maximum", Json.tree(v)));
        schema.minLength().ifPresent(v -> out.put("minLength", v));
        schema.maxLength().ifPresent(v -> out.put("maxLength", v));
        schema.pattern().ifPresent(p -> out.put("pattern", p.pattern()));
        schema.enumValues().ifPresent(values -> {
            ArrayNode list = out.putArray("enum");
            values.forEach(list::add);
        });
        schema.items().ifPresent(items -> out.set("items", schema(items)));
        if (!schema.properties().isEmpty()) {
            ObjectNode props = out.putObject("properties");
            schema.properties().forEach((name, s) -> props.set(name, schema(s)));
        }
        return out;
    }
}
