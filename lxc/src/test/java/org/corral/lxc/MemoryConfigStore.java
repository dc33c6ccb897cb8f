package org.corral.lxc;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import org.corral.core.config.ConfigFile;
import org.corral.core.config.ConfigStore;
import org.corral.core.config.StaleVersionException;
import org.corral.core.error.Conflict;

/** A config store in memory with the real one's compare-and-set rules, for tests that need no ZooKeeper. */
public final class MemoryConfigStore implements ConfigStore {
    private final Map<String, ConfigFile> files = new TreeMap<>();
    private final Map<String, ReentrantLock> locks = new ConcurrentHashMap<>();
    private final List<Map.Entry<String, Consumer<String>>> watchers = new ArrayList<>();

    @Override
    public synchronized Optional<ConfigFile> read(String path) {
        return Optional.ofNullable(files.get(path));
    }

    @Override
    public synchronized int write(String path, String text, int expectedVersion) {
        ConfigFile current = files.get(path);
        int version = current == null ? NEW : current.version();
        if (version != expectedVersion) {
            throw new StaleVersionException(path);
        }
        ConfigFile next = new ConfigFile(path, text, version + 1);
        files.put(path, next);
        notifyWatchers(path);
        return next.version();
    }

    @Override
    public synchronized int overwrite(String path, String text) {
        ConfigFile current = files.get(path);
        ConfigFile next = new ConfigFile(path, text, current == null ? 0 : current.version() + 1);
        files.put(path, next);
        notifyWatchers(path);
        return next.version();
    }

    @Override
    public synchronized boolean delete(String path, int expectedVersion) {
        ConfigFile current = files.get(path);
        if (current == null) {
            return false;
        }
        if (current.version() != expectedVersion) {
            throw new StaleVersionException(path);
        }
        files.remove(path);
        notifyWatchers(path);
        return true;
    }

    @Override
    public synchronized List<String> list(String dir) {
        String prefix = dir.isEmpty() ? "" : dir + "/";
        TreeSet<String> names = new TreeSet<>();
        files.keySet().stream().filter(p -> p.startsWith(prefix)).map(p -> p.substring(prefix.length()).split("/")[0]).forEach(names::add);
        return List.copyOf(names);
    }

    @Override
    public void sync() {}

    @Override
    public synchronized AutoCloseable watch(String prefix, Consumer<String> listener) {
        Map.Entry<String, Consumer<String>> entry = Map.entry(prefix, listener);
        watchers.add(entry);
        return () -> {
            synchronized (MemoryConfigStore.this) {
                watchers.remove(entry);
            }
        };
    }

    private void notifyWatchers(String path) {
        watchers.stream().filter(w -> path.startsWith(w.getKey())).forEach(w -> w.getValue().accept(path));
    }

    @Override
    public Lock lock(String name, Duration timeout) {
        ReentrantLock lock = locks.computeIfAbsent(name, n -> new ReentrantLock());
        try {
            if (!lock.tryLock(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new Conflict("can't lock '" + name + "' - got timeout");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Conflict("can't lock '" + name + "' - interrupted");
        }
        return lock::unlock;
    }

    @Override
    public void close() {}
}
