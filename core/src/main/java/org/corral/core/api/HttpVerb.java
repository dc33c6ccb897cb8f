package org.corral.core.api;

/** The HTTP methods the API uses; Proxmox's CLI verbs map onto them. */
public enum HttpVerb {
    GET("get"), POST("create"), PUT("set"), DELETE("delete");

    private final String cliVerb;

    HttpVerb(String cliVerb) {
        this.cliVerb = cliVerb;
    }

    /** The {@code pvesh}-style verb: get, create, set, delete. */
    public String cliVerb() {
        return cliVerb;
    }

    /** GET and DELETE carry parameters in the query string; POST and PUT in the body. */
    public boolean parametersInQuery() {
        return this == GET || this == DELETE;
    }
}
