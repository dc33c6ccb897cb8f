package org.corral.core.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.corral.core.access.AuthContext;
import org.corral.core.access.Privilege;
import org.corral.core.error.ParameterError;
import org.corral.core.error.PermissionDenied;
import org.corral.core.error.Unauthorized;
import org.corral.core.schema.Formats;
import org.corral.core.schema.Schema;
import org.junit.jupiter.api.Test;

class ApiRegistryTest {
    private static ApiMethod start() {
        return ApiMethod.post("/nodes/{node}/qemu/{vmid}/status/start")
                .permission(Check.path("/vms/{vmid}", Privilege.VM_POWER_MGMT))
                .parameter("node", Schema.string().format(Formats.PVE_NODE))
                .parameter("vmid", Schema.integer().format(Formats.PVE_VMID))
                .parameter("timeout", Schema.integer().minimum(0).optional())
                .handler(r -> "started " + r.vmId("vmid"));
    }

    private static ApiMethod tasks() {
        return ApiMethod.get("/nodes/{node}/tasks")
                .permission(Check.authenticated())
                .parameter("node", Schema.string().format(Formats.PVE_NODE))
                .handler(r -> List.of());
    }

    @Test
    void selfMeansTheUserItselfNotOneOfItsTokens() {
        Check self = Check.self("userid");
        Map<String, String> params = Map.of("userid", "ops@pve");
        assertThat(self.allows(AuthContext.user("ops@pve", "127.0.0.1"), (a, p) -> Set.of(), params)).isTrue();
        assertThat(self.allows(AuthContext.user("dev@pve", "127.0.0.1"), (a, p) -> Set.of(), params)).isFalse();
        assertThat(self.allows(new AuthContext("ops@pve", java.util.Optional.of("ops@pve!ci"), "127.0.0.1"), (a, p) -> Set.of(), params))
                .isFalse();
    }

    @Test
    void pathSegmentsIgnoreRepeatedLeadingAndTrailingSlashesAsTheRegexSplitDid() {
        java.util.Random random = new java.util.Random(16);
        String[] pieces = {"/", "//", "a", "nodes", "pve1", "%2F", "x y", ""};
        for (int i = 0; i < 2000; i++) {
            StringBuilder path = new StringBuilder();
            for (int n = random.nextInt(7); n > 0; n--) {
                path.append(pieces[random.nextInt(pieces.length)]);
            }
            String trimmed = path.toString().replaceAll("^/+|/+$", "");
            String[] slow = trimmed.isEmpty() ? new String[0] : trimmed.split("/+");
            assertThat(ApiRegistry.segments(path.toString())).as(path.toString()).containsExactly(slow);
        }
    }

    @Test
    void duplicatePathStopsStartUp() {
        ApiModule module = () -> List.of(start(), start());
        assertThatThrownBy(() -> new ApiRegistry(List.of(module))).hasMessageContaining("duplicate API method");
    }

    @Test
    void undeclaredPathVariableStopsStartUp() {
        ApiModule module = () -> List.of(ApiMethod.get("/nodes/{node}").permission(Check.authenticated()).handler(r -> null));
        assertThatThrownBy(() -> new ApiRegistry(List.of(module)))
                .hasMessageContaining("path variable 'node' is not a declared parameter");
    }

    @Test
    void literalSegmentsWinOverVariables() {
        ApiMethod byName = ApiMethod.get("/nodes/{node}/{kind}").permission(Check.authenticated())
                .parameter("node", Schema.string()).parameter("kind", Schema.string()).handler(r -> "var");
        ApiRegistry registry = new ApiRegistry(List.of(() -> List.of(byName, tasks())));
        assertThat(registry.match(HttpVerb.GET, "/nodes/pve1/tasks").orElseThrow().method()).isSameAs(registry.methods().stream()
                .filter(m -> m.path().endsWith("/tasks")).findFirst().orElseThrow());
        assertThat(registry.match(HttpVerb.GET, "/nodes/pve1/other").orElseThrow().pathValues())
                .containsEntry("kind", "other");
        assertThat(registry.children("/nodes/pve1")).containsExactly("tasks", "{kind}");
    }

    @Test
    void dispatcherChecksAuthenticationThenPrivilegeThenParameters() throws Exception {
        ApiRegistry registry = new ApiRegistry(List.of(() -> List.of(start())));
        Set<Privilege> held = Set.of(Privilege.VM_POWER_MGMT);
        ApiDispatcher dispatcher = new ApiDispatcher(registry, (auth, path) -> path.equals("/vms/100") ? held : Set.of());
        AuthContext user = AuthContext.user("ops@pve", "127.0.0.1");

        assertThat(dispatcher.dispatch(HttpVerb.POST, "/nodes/pve1/qemu/100/status/start", Map.of(), user)).isEqualTo("started 100");
        assertThatThrownBy(() -> dispatcher.dispatch(HttpVerb.POST, "/nodes/pve1/qemu/101/status/start", Map.of(), user))
                .isInstanceOf(PermissionDenied.class).hasMessageContaining("/vms/101, VM.PowerMgmt");
        assertThatThrownBy(() -> dispatcher.dispatch(HttpVerb.POST, "/nodes/pve1/qemu/100/status/start", Map.of(),
                AuthContext.anonymous("127.0.0.1"))).isInstanceOf(Unauthorized.class);
        assertThatThrownBy(() -> dispatcher.dispatch(HttpVerb.POST, "/nodes/pve1/qemu/100/status/start",
                Map.of("timeout", "-1"), user)).isInstanceOf(ParameterError.class).hasMessageContaining("timeout");
        assertThatThrownBy(() -> dispatcher.dispatch(HttpVerb.POST, "/nodes/pve1/qemu/..%2f/status/start", Map.of(), user))
                .isInstanceOf(ParameterError.class).hasMessageContaining("vmid");
    }

    @Test
    void withoutQuorumWritesAreRefusedBeforeTheHandlerRunsButReadsStopAndLoginWork() throws Exception {
        java.util.concurrent.atomic.AtomicInteger ran = new java.util.concurrent.atomic.AtomicInteger();
        ApiMethod create = ApiMethod.post("/pools").permission(Check.authenticated()).handler(r -> ran.incrementAndGet());
        ApiMethod stop = ApiMethod.post("/nodes/{node}/qemu/{vmid}/status/stop").permission(Check.authenticated())
                .parameter("node", Schema.string()).parameter("vmid", Schema.integer()).worksWithoutQuorum().handler(r -> "stopping");
        ApiRegistry registry = new ApiRegistry(List.of(() -> List.of(create, stop, tasks())));
        java.util.concurrent.atomic.AtomicBoolean quorate = new java.util.concurrent.atomic.AtomicBoolean(true);
        ApiDispatcher dispatcher = new ApiDispatcher(registry, (auth, path) -> Set.of(), quorate::get);
        AuthContext user = AuthContext.user("ops@pve", "127.0.0.1");

        dispatcher.dispatch(HttpVerb.POST, "/pools", Map.of(), user);
        assertThat(ran).hasValue(1);
        quorate.set(false);
        assertThatThrownBy(() -> dispatcher.dispatch(HttpVerb.POST, "/pools", Map.of(), user))
                .isInstanceOf(org.corral.core.error.ApiException.class).hasMessage("cluster not ready - no quorum?");
        assertThat(ran).hasValue(1);
        assertThat(dispatcher.dispatch(HttpVerb.POST, "/nodes/pve1/qemu/100/status/stop", Map.of(), user)).isEqualTo("stopping");
        assertThat(dispatcher.dispatch(HttpVerb.GET, "/nodes/pve1/tasks", Map.of(), user)).isEqualTo(List.of());
    }

    private static ApiMethod volume(HttpVerb verb) {
        ApiMethod m = verb == HttpVerb.GET ? ApiMethod.get("/nodes/{node}/storage/{storage}/content/{volume}")
                : ApiMethod.delete("/nodes/{node}/storage/{storage}/content/{volume}");
        return m.permission(Check.authenticated())
                .parameter("node", Schema.string())
                .parameter("storage", Schema.string())
                .parameter("volume", Schema.string())
                .handler(r -> r.string("volume"));
    }

    @Test
    void lastVariableTakesTheRestOfThePathOnlyWhereDeclared() {
        ApiRegistry registry = new ApiRegistry(List.of(() -> List.of(volume(HttpVerb.GET).lastVariableTakesRestOfPath(), volume(HttpVerb.DELETE))));
        assertThat(registry.match(HttpVerb.GET, "/nodes/pve1/storage/local/content/local:iso/sub/x.iso").orElseThrow().pathValues())
                .containsEntry("volume", "local:iso/sub/x.iso").containsEntry("storage", "local");
        assertThat(registry.match(HttpVerb.GET, "/nodes/pve1/storage/local/content/local:iso%2Fx.iso").orElseThrow().pathValues())
                .containsEntry("volume", "local:iso%2Fx.iso");
        assertThat(registry.match(HttpVerb.DELETE, "/nodes/pve1/storage/local/content/local:iso/x.iso")).isEmpty();
    }

    @Test
    void restOfPathOnAPathNotEndingInAVariableStopsStartUp() {
        ApiModule module = () -> List.of(tasks().lastVariableTakesRestOfPath());
        assertThatThrownBy(() -> new ApiRegistry(List.of(module))).hasMessageContaining("only a last path variable");
    }

    @Test
    void directoryIndexListsExactlyTheDeclaredLiteralChildren() throws Exception {
        ApiMethod index = ApiMethod.get("/nodes/{node}").permission(Check.authenticated())
                .parameter("node", Schema.string().format(Formats.PVE_NODE))
                .directoryIndex("name");
        ApiRegistry registry = new ApiRegistry(List.of(() -> List.of(index, start(), tasks(), volume(HttpVerb.GET))));
        Object answer = index.handler().handle(null);
        assertThat(answer).isEqualTo(List.of(Map.of("name", "qemu"), Map.of("name", "storage"), Map.of("name", "tasks")));
        assertThat(registry.methods()).contains(index);
    }
}
