package org.corral.storage;

import static java.util.Objects.requireNonNull;

import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * What a storage type can do, as data (Proxmox's {@code plugindata}): the content it may hold and
 * holds by default, its volume formats, which features each format has, its export formats, and
 * whether every storage of the type is shared between nodes. Callers ask, never switch on the type.
 *
 * @param fileBased volumes are files or directories below a path, so ISOs, templates and uploads can live there
 */
public record Capabilities(
        Set<ContentType> content,
        Set<ContentType> defaultContent,
        Set<VolumeFormat> formats,
        Optional<VolumeFormat> defaultFormat,
        Map<VolumeFormat, Set<Feature>> features,
        Set<String> exportFormats,
        boolean sharedByType,
        boolean fileBased) {
    public Capabilities {
        content = Set.copyOf(requireNonNull(content, "content is null"));
        defaultContent = Set.copyOf(requireNonNull(defaultContent, "defaultContent is null"));
        formats = Set.copyOf(requireNonNull(formats, "formats is null"));
        requireNonNull(defaultFormat, "defaultFormat is null");
        requireNonNull(features, "features is null");
        Map<VolumeFormat, Set<Feature>> copy = new EnumMap<>(VolumeFormat.class);
        features.forEach((format, set) -> copy.put(format, set.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(set))));
        features = Map.copyOf(copy);
        exportFormats = Set.copyOf(requireNonNull(exportFormats, "exportFormats is null"));
        if (!content.containsAll(defaultContent)) {
            throw new IllegalArgumentException("default content " + defaultContent + " is not within " + content);
        }
        if (defaultFormat.isPresent() && !formats.contains(defaultFormat.get())) {
            throw new IllegalArgumentException("default format " + defaultFormat.get() + " is not within " + formats);
        }
    }

    public boolean supports(Feature feature, VolumeFormat format) {
        return features.getOrDefault(format, Set.of()).contains(feature);
    }
}
