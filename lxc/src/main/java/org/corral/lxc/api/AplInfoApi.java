package org.corral.lxc.api;

import static java.util.Objects.requireNonNull;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.corral.core.access.Privilege;
import org.corral.core.api.ApiMethod;
import org.corral.core.api.ApiModule;
import org.corral.core.api.Check;
import org.corral.core.error.ParameterError;
import org.corral.core.schema.Formats;
import org.corral.core.schema.Schema;
import org.corral.lxc.LxcService;
import org.corral.lxc.template.BusyboxTemplate;
import org.corral.lxc.template.DebianTemplate;

/**
 * {@code /nodes/{node}/aplinfo}: the appliance templates this node offers. Proxmox downloads
 * them from its appliance index; Corral builds its two locally (busybox from the host's
 * busybox-static, Debian 12 with debootstrap) into the chosen storage's template cache.
 */
public final class AplInfoApi implements ApiModule {
    static final String BUSYBOX = "busybox-corral_1_amd64.tar.gz";
    static final String DEBIAN = DebianTemplate.Spec.bookworm().fileName();

    private final LxcService service;

    public AplInfoApi(LxcService service) {
        this.service = requireNonNull(service, "service is null");
    }

    @Override
    public List<ApiMethod> methods() {
        return List.of(list(), download());
    }

    private ApiMethod list() {
        return ApiMethod.get("/nodes/{node}/aplinfo").name("aplinfo").description("Get list of appliances.")
                .permission(Check.authenticated())
                .proxyToNode()
                .parameter("node", ApiParams.node())
                .returns(Schema.array(Schema.object()))
                .handler(r -> {
                    service.checkNode(r.string("node"));
                    return List.of(
                            entry(BUSYBOX, "busybox", "busybox", "1.0", "Minimal busybox system",
                                    "A tiny container built from the host's static busybox: init, a shell and the busybox applets."),
                            entry(DEBIAN, "debian-12-standard", "debian-12", "12.0-1", "Debian 12 Bookworm (standard)",
                                    "A minimal Debian 12 system built with debootstrap from Debian's packages."));
                });
    }

    private static Map<String, Object> entry(String template, String pkg, String os, String version, String headline, String text) {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("template", template);
        e.put("package", pkg);
        e.put("os", os);
        e.put("version", version);
        e.put("headline", headline);
        e.put("description", text);
        e.put("type", "lxc");
        e.put("section", "system");
        e.put("architecture", "amd64");
        e.put("source", "corral (built locally)");
        return e;
    }

    private ApiMethod download() {
        return ApiMethod.post("/nodes/{node}/aplinfo").name("apl_download")
                .description("Download appliance templates. Corral builds the template locally into the storage's template cache.")
                .permission(Check.path("/storage/{storage}", Privilege.DATASTORE_ALLOCATE_TEMPLATE))
                .proxyToNode()
                .parameter("node", ApiParams.node())
                .parameter("storage", Schema.string().format(Formats.PVE_STORAGE_ID)
                        .description("The storage where the template will be stored"))
                .parameter("template", Schema.string().maxLength(255).description("The template which will downloaded"))
                .returns(ApiParams.upid())
                .handler(r -> {
                    service.checkNode(r.string("node"));
                    String template = r.string("template");
                    if (!template.equals(BUSYBOX) && !template.equals(DEBIAN)) {
                        throw new ParameterError("template", "no such template '" + template + "'");
                    }
                    Path dir = service.storage().templateDirectory(r.string("storage"));
                    return service.tasks().start("download", template.replaceAll("[^A-Za-z0-9._-]", "_"), r.auth().userid(), ctx -> {
                        ctx.log("building %s into %s", template, dir);
                        Path built = template.equals(BUSYBOX) ? new BusyboxTemplate().build(dir)
                                : new DebianTemplate(DebianTemplate.Spec.bookworm(), Duration.ofHours(1)).build(dir);
                        if (template.equals(BUSYBOX)) {
                            Files.move(built, dir.resolve(BUSYBOX), StandardCopyOption.REPLACE_EXISTING);
                        }
                        ctx.log("wrote %s", template);
                    }).format();
                });
    }
}
