package org.corral.server.http;

import java.nio.ByteBuffer;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.MetaData;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpStream;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.util.Callback;

/**
 * Puts the error message into the HTTP status line, where Proxmox clients (proxmoxer) read it.
 * Jetty 12 no longer lets applications set a reason phrase, so a handler sets the private header
 * {@link #HEADER} and this customizer moves it into the status line as the response is sent.
 */
public final class ReasonPhrase implements HttpConfiguration.Customizer {
    public static final String HEADER = "X-Corral-Reason";

    @Override
    public Request customize(Request request, HttpFields.Mutable responseHeaders) {
        request.addHttpStreamWrapper(stream -> new HttpStream.Wrapper(stream) {
            @Override
            public void send(MetaData.Request metaRequest, MetaData.Response response, boolean last, ByteBuffer content,
                    Callback callback) {
                if (response != null && response.getHttpFields().contains(HEADER)) {
                    String reason = response.getHttpFields().get(HEADER);
                    HttpFields fields = HttpFields.build(response.getHttpFields()).remove(HEADER);
                    response = new MetaData.Response(response.getStatus(), reason, response.getHttpVersion(), fields,
                            response.getContentLength(), response.getTrailersSupplier());
                }
                super.send(metaRequest, response, last, content, callback);
            }
        });
        return request;
    }

    /** A status-line-safe version of a message: one line of printable ASCII. */
    public static String sanitize(String message) {
        String line = message == null ? "" : message.strip().replaceAll("[\\r\\n]+", " ");
        StringBuilder out = new StringBuilder();
        for (char c : line.toCharArray()) {
            out.append(c >= 0x20 && c < 0x7f ? c : '?');
        }
        return out.length() > 512 ? out.substring(0, 512) : out.toString();
    }

}
