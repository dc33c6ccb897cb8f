package org.corral.core.api;

/** The code behind one API method. Returns the answer's {@code data}, or an {@link ApiResult}. */
@FunctionalInterface
public interface ApiHandler {
    Object handle(ApiRequest request) throws Exception;
}
