package org.corral.core.api;

import static java.util.Objects.requireNonNull;

import java.io.InputStream;

/**
 * A file sent with a call (multipart/form-data), as Proxmox's upload methods take it. The stream is
 * read straight from the connection: read it once, and never into memory whole.
 */
public record Upload(String filename, String contentType, InputStream stream) {
    public Upload {
        requireNonNull(filename, "filename is null");
        requireNonNull(contentType, "contentType is null");
        requireNonNull(stream, "stream is null");
    }
}
