package org.corral.server.api;

import org.corral.core.api.ApiRequest;
import org.corral.core.error.ApiException;
import org.corral.core.node.Node;

/** Checks that a call's {@code node} parameter names this node; other nodes' calls are proxied later. */
final class LocalNode {
    private LocalNode() {}

    static void require(Node node, ApiRequest request) {
        String given = request.string("node");
        if (!given.equals(node.name()) && !given.equals("localhost")) {
            // Proxmox answers 595 for an unknown or unreachable cluster node
            throw new ApiException(595, "no such cluster node '" + given + "'");
        }
    }
}
