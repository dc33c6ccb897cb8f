package org.corral.server.rrd;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.rrd4j.ConsolFun;
import org.rrd4j.core.Archive;
import org.rrd4j.core.RrdDb;
import org.rrd4j.core.RrdRandomAccessFileBackendFactory;
import org.rrd4j.core.Sample;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's RRD files, one per object under {@code dir}: {@code node/<node>.rrd},
 * {@code qemu/<vmid>.rrd}, {@code lxc/<vmid>.rrd}, {@code storage/<storage>.rrd}, as Proxmox keeps
 * pve2-node, pve2-vm and pve2-storage. Files stay open until {@link #close()}.
 */
public final class MetricsStore implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(MetricsStore.class);
    private static final RrdRandomAccessFileBackendFactory FILES = new RrdRandomAccessFileBackendFactory();

    private final Path dir;
    private final RrdLayout layout;
    private final Map<Path, RrdDb> open = new ConcurrentHashMap<>();
    private volatile boolean closed;

    public MetricsStore(Path dir, RrdLayout layout) {
        this.dir = requireNonNull(dir, "dir is null");
        this.layout = requireNonNull(layout, "layout is null");
    }

    public RrdLayout layout() {
        return layout;
    }

    /** The file of one object; {@code group} is node, qemu, lxc or storage. */
    Path file(String group, String id) {
        return dir.resolve(group).resolve(id + ".rrd");
    }

    /**
     * Records the figures measured at {@code timeSeconds}; a field absent from {@code values} is
     * unknown for that time. An update not later than the file's last one is dropped.
     */
    public void update(RrdLayout.Kind kind, String group, String id, long timeSeconds, Map<String, Double> values) {
        RrdDb db = db(kind, group, id, timeSeconds, true);
        synchronized (db) {
            try {
                if (timeSeconds <= db.getLastUpdateTime()) {
                    return;
                }
                Sample sample = db.createSample(timeSeconds);
                for (RrdLayout.Source source : kind.sources()) {
                    Double value = values.get(source.name());
                    sample.setValue(source.name(), value == null ? Double.NaN : value);
                }
                sample.update();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /**
     * The points of a timeframe ending at {@code nowSeconds}, as Proxmox answers rrddata: each with
     * its {@code time} and the fields that have a value; no file yet means points without values.
     */
    public List<Map<String, Object>> read(RrdLayout.Kind kind, String group, String id, RrdLayout.Timeframe timeframe,
            ConsolFun cf, long nowSeconds) {
        long reso = layout.stepSeconds() * timeframe.steps();
        long ctime = reso * (nowSeconds / reso);
        long first = ctime - reso * timeframe.points();
        RrdDb db = Files.exists(file(group, id)) ? db(kind, group, id, nowSeconds, false) : null;
        List<Map<String, Object>> out = new ArrayList<>(timeframe.points());
        if (db == null) {
            for (int i = 0; i < timeframe.points(); i++) {
                out.add(Map.of("time", first + i * reso));
            }
            return out;
        }
        synchronized (db) {
            try {
                Archive archive = db.getArchive(cf, timeframe.steps());
                long start = archive.getStartTime();
                long end = archive.getEndTime();
                long arcStep = archive.getArcStep();
                List<RrdLayout.Source> sources = kind.sources();
                double[][] values = new double[sources.size()][];
                for (int s = 0; s < sources.size(); s++) {
                    values[s] = archive.getRobin(db.getDsIndex(sources.get(s).name())).getValues();
                }
                for (int i = 0; i < timeframe.points(); i++) {
                    long time = first + i * reso;
                    Map<String, Object> point = new LinkedHashMap<>();
                    point.put("time", time);
                    // as Proxmox labels them: a point's time is the start of the interval it consolidates
                    long rowTime = time + reso;
                    if (rowTime >= start && rowTime <= end && (rowTime - start) % arcStep == 0) {
                        int row = (int) ((rowTime - start) / arcStep);
                        for (int s = 0; s < sources.size(); s++) {
                            double v = values[s][row];
                            if (!Double.isNaN(v)) {
                                point.put(sources.get(s).name(), v);
                            }
                        }
                    }
                    out.add(point);
                }
                return out;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    private RrdDb db(RrdLayout.Kind kind, String group, String id, long timeSeconds, boolean create) {
        if (closed) {
            throw new IllegalStateException("the metrics store is closed");
        }
        Path file = file(group, id);
        return open.computeIfAbsent(file, f -> {
            try {
                if (Files.exists(f)) {
                    return RrdDb.getBuilder().setPath(f.toString()).setBackendFactory(FILES).build();
                }
                if (!create) {
                    throw new IllegalStateException("no RRD file " + f);
                }
                Files.createDirectories(f.getParent());
                return RrdDb.getBuilder().setBackendFactory(FILES)
                        .setRrdDef(layout.definition(kind, f.toString(), timeSeconds - 1)).build();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    @Override
    public void close() {
        closed = true;
        for (RrdDb db : open.values()) {
            synchronized (db) {
                try {
                    db.close();
                } catch (IOException e) {
                    log.warn("Cannot close {}", db.getPath(), e);
                }
            }
        }
        open.clear();
    }
}
