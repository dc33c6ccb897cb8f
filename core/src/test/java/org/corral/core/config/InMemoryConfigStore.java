package org.corral.core.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import org.corral.core.error.Conflict;

/**
 * A config store in memory with the real store's version rules: a new file has version 0, each
 * write adds one, a write naming another version fails. Watches are told synchronously.
 */
public final class InMemoryConfigStore implements ConfigStore {
    private record Entry(String text, int version) {}

    private final Map<String, Entry> files = new TreeMap<>();
    private final List<Watch> watches = new CopyOnWriteArrayList<>();
    private final Map<String, ReentrantLock> locks = new ConcurrentHashMap<>();
    private final AtomicInteger writes = new AtomicInteger();
    private final AtomicInteger reads = new AtomicInteger();

    private record Watch(String prefix, Consumer<String> listener) {}

    @Override
    public Optional<ConfigFile> read(String path) {
        reads.incrementAndGet();
        synchronized (files) {
            Entry entry = files.get(path);
            return entry == null ? Optional.empty() : Optional.of(new ConfigFile(path, entry.text(), entry.version()));
        }
    }

    @Override
    public int write(String path, String text, int expectedVersion) {
        int version;
        synchronized (files) {
            Entry entry = files.get(path);
            if (expectedVersion == NEW ? entry != null : entry == null || entry.version() != expectedVersion) {
                throw new StaleVersionException(path);
            }
            version = entry == null ? 0 : entry.version() + 1;
            files.put(path, new Entry(text, version));
        }
        writes.incrementAndGet();
        notify(path);
        return version;
    }

    @Override
    public int overwrite(String path, String text) {
        int version;
        synchronized (files) {
            Entry entry = files.get(path);
            version = entry == null ? 0 : entry.version() + 1;
            files.put(path, new Entry(text, version));
        }
        writes.incrementAndGet();
        notify(path);
        return version;
    }

    @Override
    public boolean delete(String path, int expectedVersion) {
        synchronized (files) {
            Entry entry = files.get(path);
            if (entry == null) {
                return false;
            }
            if (expectedVersion == NEW || entry.version() != expectedVersion) {
                throw new StaleVersionException(path);
            }
            files.remove(path);
        }
        notify(path);
        return true;
    }

    @Override
    public List<String> list(String dir) {
        String prefix = dir.isEmpty() ? "" : dir + "/";
        TreeSet<String> names = new TreeSet<>();
        synchronized (files) {
            for (String path : files.keySet()) {
                if (path.startsWith(prefix)) {
                    names.add(path.substring(prefix.length()).split("/")[0]);
                }
            }
        }
        return List.copyOf(names);
    }

    @Override
    public boolean quorate() {
        return true;
    }

    @Override
    public void sync() {
    }

    @Override
    public AutoCloseable watch(String prefix, Consumer<String> listener) {
        Watch watch = new Watch(prefix, listener);
        watches.add(watch);
        return () -> watches.remove(watch);
    }

    private void notify(String path) {
        for (Watch watch : watches) {
            if (watch.prefix().isEmpty() || path.equals(watch.prefix()) || path.startsWith(watch.prefix() + "/")) {
                watch.listener().accept(path);
            }
        }
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
    public void close() {
    }

    /** The file's text, or null when it does not exist. */
    public String text(String path) {
        return read(path).map(ConfigFile::text).orElse(null);
    }

    public int writes() {
        return writes.get();
    }

    public int reads() {
        return reads.get();
    }

    /** All files and their texts, for "nothing changed" assertions. */
    public Map<String, String> snapshot() {
        Map<String, String> copy = new TreeMap<>();
        synchronized (files) {
            files.forEach((path, entry) -> copy.put(path, entry.text()));
        }
        return copy;
    }

    /** Paths of the watches now open. */
    public List<String> watchedPrefixes() {
        List<String> prefixes = new ArrayList<>();
        watches.forEach(w -> prefixes.add(w.prefix()));
        return prefixes;
    }
}
