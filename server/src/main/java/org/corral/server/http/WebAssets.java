package org.corral.server.http;

import io.javalin.http.Context;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * The web GUI that the {@code web} module built into the class path under {@code web/}: the page
 * at {@code /} (never cached, so a new build is picked up at once) and its content-hashed assets
 * under {@code /assets/} (cached for a year). The page may load nothing from outside the node.
 */
final class WebAssets {
    private static final Pattern ASSET = Pattern.compile("[A-Za-z0-9_.-]+\\.(js|css|svg|png|woff2)");
    private static final Map<String, String> TYPES = Map.of("js", "text/javascript; charset=utf-8", "css", "text/css; charset=utf-8",
            "svg", "image/svg+xml", "png", "image/png", "woff2", "font/woff2");
    private static final String POLICY = "default-src 'self'; connect-src 'self'; img-src 'self' data:; object-src 'none'; "
            + "base-uri 'none'; frame-ancestors 'none'";

    private final Map<String, Optional<byte[]>> loaded = new ConcurrentHashMap<>();

    void index(Context ctx) {
        Optional<byte[]> page = load("index.html");
        if (page.isEmpty()) {
            ctx.status(404).contentType("text/plain; charset=utf-8").result("the web GUI is not part of this build\n");
            return;
        }
        headers(ctx).header("Cache-Control", "no-cache").contentType("text/html; charset=utf-8").result(page.get());
    }

    void asset(Context ctx) {
        String name = ctx.pathParam("file");
        var matcher = ASSET.matcher(name);
        Optional<byte[]> data = matcher.matches() ? load("assets/" + name) : Optional.empty();
        if (data.isEmpty()) {
            ctx.status(404).contentType("text/plain; charset=utf-8").result("no such file\n");
            return;
        }
        headers(ctx).header("Cache-Control", "public, max-age=31536000, immutable")
                .contentType(TYPES.get(matcher.group(1))).result(data.get());
    }

    private static Context headers(Context ctx) {
        return ctx.header("Content-Security-Policy", POLICY).header("X-Content-Type-Options", "nosniff")
                .header("Referrer-Policy", "same-origin");
    }

    private Optional<byte[]> load(String name) {
        return loaded.computeIfAbsent(name, n -> {
            try (InputStream in = WebAssets.class.getClassLoader().getResourceAsStream("web/" + n)) {
                return in == null ? Optional.empty() : Optional.of(in.readAllBytes());
            } catch (IOException e) {
                throw new UncheckedIOException("can't read the GUI file " + n, e);
            }
        });
    }
}
