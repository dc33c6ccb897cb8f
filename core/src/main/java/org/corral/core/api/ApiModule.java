package org.corral.core.api;

import java.util.List;

/** A module's share of the API: its method declarations. */
public interface ApiModule {
    List<ApiMethod> methods();
}
