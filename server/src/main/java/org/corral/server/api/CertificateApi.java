package org.corral.server.api;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import org.corral.core.access.Privilege;
import org.corral.core.api.ApiMethod;
import org.corral.core.api.ApiModule;
import org.corral.core.api.ApiRequest;
import org.corral.core.api.Check;
import org.corral.core.config.ConfigFile;
import org.corral.core.config.ConfigStore;
import org.corral.core.error.ParameterError;
import org.corral.core.node.Node;
import org.corral.core.schema.Formats;
import org.corral.core.schema.Schema;
import org.corral.server.tls.CertificateInfo;
import org.corral.cluster.tls.CertifiedKey;
import org.corral.server.tls.CustomCertificate;

/** {@code /nodes/{node}/certificates}: what the node serves, and uploading a custom certificate. */
public final class CertificateApi implements ApiModule {
    private final Node node;
    private final ConfigStore store;
    private final Consumer<CertifiedKey> serve;

    /** {@code serve} switches the HTTPS listener to a certificate at once. */
    public CertificateApi(Node node, ConfigStore store, Consumer<CertifiedKey> serve) {
        this.node = requireNonNull(node, "node is null");
        this.store = requireNonNull(store, "store is null");
        this.serve = requireNonNull(serve, "serve is null");
    }

    public static String issuedCert(String node) {
        return "nodes/" + node + "/pve-ssl.pem";
    }

    public static String issuedKey(String node) {
        return "nodes/" + node + "/pve-ssl.key";
    }

    public static String customCert(String node) {
        return "nodes/" + node + "/pveproxy-ssl.pem";
    }

    public static String customKey(String node) {
        return "nodes/" + node + "/pveproxy-ssl.key";
    }

    private static Schema nodeParam() {
        return Schema.string().format(Formats.PVE_NODE).description("The cluster node name.");
    }

    @Override
    public List<ApiMethod> methods() {
        return List.of(
                ApiMethod.get("/nodes/{node}/certificates")
                        .name("index")
                        .description("Node index.")
                        .permission(Check.authenticated())
                        .proxyToNode()
                        .parameter("node", nodeParam())
                        .directoryIndex("name", r -> LocalNode.require(node, r)),
                ApiMethod.get("/nodes/{node}/certificates/info")
                        .name("info")
                        .description("Get information about node's certificates.")
                        .permission(Check.authenticated())
                        .proxyToNode()
                        .parameter("node", nodeParam())
                        .returns(Schema.array(Schema.object()
                                .property("filename", Schema.string())
                                .property("fingerprint", Schema.string())
                                .property("subject", Schema.string())
                                .property("issuer", Schema.string())
                                .property("notbefore", Schema.integer())
                                .property("notafter", Schema.integer())
                                .property("san", Schema.array(Schema.string()))
                                .property("pem", Schema.string())))
                        .handler(r -> {
                            LocalNode.require(node, r);
                            return info();
                        }),
                ApiMethod.post("/nodes/{node}/certificates/custom")
                        .name("upload_custom_cert")
                        .description("Upload or update custom certificate chain and key. It is served at once.")
                        .permission(Check.path("/nodes/{node}", Privilege.SYS_MODIFY))
                        .proxyToNode()
                        .parameter("node", nodeParam())
                        .parameter("certificates", Schema.string().format(Formats.PEM).maxLength(64 * 1024).multiLine()
                                .description("PEM encoded certificate (chain)."))
                        .parameter("key", Schema.string().format(Formats.PEM).maxLength(64 * 1024).multiLine().optional().secret()
                                .description("PEM encoded private key."))
                        .parameter("force", Schema.bool().defaultValue(false).description("Overwrite existing custom certificate."))
                        .parameter("restart", Schema.bool().defaultValue(false)
                                .description("Restart pveproxy (accepted for compatibility; the certificate is served at once)."))
                        .returns(Schema.object())
                        .handler(this::upload),
                ApiMethod.delete("/nodes/{node}/certificates/custom")
                        .name("remove_custom_cert")
                        .description("DELETE custom certificate chain and key; the cluster-issued certificate is served again.")
                        .permission(Check.path("/nodes/{node}", Privilege.SYS_MODIFY))
                        .proxyToNode()
                        .parameter("node", nodeParam())
                        .parameter("restart", Schema.bool().defaultValue(false)
                                .description("Restart pveproxy (accepted for compatibility)."))
                        .handler(this::remove));
    }

    private List<CertificateInfo> info() {
        List<CertificateInfo> out = new ArrayList<>();
        store.read("pve-root-ca.pem").ifPresent(f -> out.add(CertificateInfo.of("pve-root-ca.pem", f.text())));
        store.read(issuedCert(node.name())).ifPresent(f -> out.add(CertificateInfo.of("pve-ssl.pem", f.text())));
        store.read(customCert(node.name())).ifPresent(f -> out.add(CertificateInfo.of("pveproxy-ssl.pem", f.text())));
        return out;
    }

    private Object upload(ApiRequest r) {
        LocalNode.require(node, r);
        Optional<ConfigFile> existing = store.read(customCert(node.name()));
        if (existing.isPresent() && !r.bool("force")) {
            throw new ParameterError("force", "Custom certificate exists but 'force' is not set.");
        }
        String keyPem = r.optionalString("key")
                .or(() -> store.read(customKey(node.name())).map(ConfigFile::text))
                .orElseThrow(() -> new ParameterError("key", "Attempted to upload custom certificate without (existing) key."));
        CertifiedKey key = CustomCertificate.validate(r.string("certificates"), keyPem);
        // key first: a certificate without its key is never served
        store.overwrite(customKey(node.name()), key.privateKeyPem());
        store.overwrite(customCert(node.name()), key.chainPem());
        serve.accept(key);
        return CertificateInfo.of("pveproxy-ssl.pem", key.chainPem());
    }

    private Object remove(ApiRequest r) {
        LocalNode.require(node, r);
        CertifiedKey issued = CertifiedKey.fromPem(store.read(issuedCert(node.name())).orElseThrow().text(),
                store.read(issuedKey(node.name())).orElseThrow().text());
        store.read(customCert(node.name())).ifPresent(f -> store.delete(f.path(), f.version()));
        store.read(customKey(node.name())).ifPresent(f -> store.delete(f.path(), f.version()));
        serve.accept(issued);
        return null;
    }
}
