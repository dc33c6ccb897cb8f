package org.corral.access.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.corral.access.AccessFixture;
import org.corral.core.api.ApiMethod;
import org.corral.core.api.ApiRegistry;
import org.corral.core.api.OpenApi;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ApiDeclarationTest {
    private final AccessFixture fx = new AccessFixture();

    @AfterEach
    void tearDown() {
        fx.close();
    }

    @Test
    void everyMethodHasANameADescriptionAndDescribedParameters() {
        List<String> missing = new ArrayList<>();
        for (ApiMethod method : new ApiRegistry(fx.access.apiModules()).methods()) {
            if (method.name().isEmpty() || method.description().isEmpty()) {
                missing.add(method + ": name or description");
            }
            method.parameters().forEach((name, schema) -> {
                if (schema.description().isEmpty()) {
                    missing.add(method + ": parameter " + name);
                }
            });
        }
        assertThat(missing).isEmpty();
    }

    @Test
    void proxmoxPathsAreDeclaredAndTheOpenApiDocumentBuilds() {
        ApiRegistry registry = new ApiRegistry(fx.access.apiModules());

        assertThat(registry.methods()).extracting(ApiMethod::toString).contains(
                "GET /access", "POST /access/ticket", "GET /access/ticket", "POST /access/vncticket", "PUT /access/password", "GET /access/permissions",
                "GET /access/users", "POST /access/users", "GET /access/users/{userid}", "PUT /access/users/{userid}",
                "DELETE /access/users/{userid}", "GET /access/users/{userid}/token", "POST /access/users/{userid}/token/{tokenid}",
                "PUT /access/users/{userid}/token/{tokenid}", "DELETE /access/users/{userid}/token/{tokenid}",
                "GET /access/groups", "POST /access/groups", "PUT /access/groups/{groupid}", "GET /access/roles",
                "DELETE /access/roles/{roleid}", "GET /access/acl", "PUT /access/acl", "GET /access/domains",
                "PUT /access/domains/{realm}", "GET /pools", "POST /pools", "GET /pools/{poolid}", "DELETE /pools/{poolid}");
        assertThat(OpenApi.document(registry, "Corral", "test").get("paths").has("/access/ticket")).isTrue();
    }
}
