package org.corral.backup.vzdump;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One validated {@code vzdump} call: the guests it backs up, in order, and how.
 *
 * @param retention the keep options to prune with after each backup; empty keeps all
 * @param settings every parameter as given, for the job's first log line and its notification settings
 */
public record VzdumpJob(
        List<Integer> vmids,
        Mode mode,
        String storage,
        Compression compression,
        int zstdThreads,
        long bwlimitKiB,
        Optional<String> notesTemplate,
        boolean protect,
        Map<String, Integer> retention,
        boolean remove,
        boolean stdexcludes,
        long stopwaitMinutes,
        int ionice,
        Map<String, String> settings) {
    public enum Mode {
        STOP, SUSPEND, SNAPSHOT;

        public String apiName() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    public VzdumpJob {
        vmids = List.copyOf(requireNonNull(vmids, "vmids is null"));
        requireNonNull(mode, "mode is null");
        requireNonNull(storage, "storage is null");
        requireNonNull(compression, "compression is null");
        requireNonNull(notesTemplate, "notesTemplate is null");
        retention = Map.copyOf(requireNonNull(retention, "retention is null"));
        settings = Map.copyOf(requireNonNull(settings, "settings is null"));
    }
}
