package org.corral.lxc.config;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

/** The {@code features} option: nesting, keyctl, fuse, mknod, force_rw_sys and allowed mount types. */
public record Features(boolean nesting, boolean keyctl, boolean fuse, boolean mknod, boolean forceRwSys, List<String> mount) {
    public static final Features NONE = new Features(false, false, false, false, false, List.of());

    public Features {
        mount = List.copyOf(mount);
    }

    public static Features parse(String text) {
        Map<String, String> v = PropertyValues.parse(CtOptions.FEATURES, text);
        List<String> mount = v.containsKey("mount")
                ? Arrays.stream(v.get("mount").split("[; ]+")).filter(s -> !s.isEmpty()).toList() : List.of();
        return new Features("1".equals(v.get("nesting")), "1".equals(v.get("keyctl")), "1".equals(v.get("fuse")),
                "1".equals(v.get("mknod")), "1".equals(v.get("force_rw_sys")), mount);
    }

    public static Features of(CtSection section) {
        return section.get("features").map(Features::parse).orElse(NONE);
    }
}
