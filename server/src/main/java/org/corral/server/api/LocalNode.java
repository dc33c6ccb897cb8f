package org.corral.server.api;

import org.corral.core.api.ApiRequest;
import org.corral.core.node.Node;

/** Checks that a call's {@code node} parameter names this node; other nodes' calls are proxied later. */
final class LocalNode {
    private LocalNode() {}

    static void require(Node node, ApiRequest request) {
        node.requireLocal(request.string("node"));
    }

}
