package org.corral.access;

import static java.util.Objects.requireNonNull;

import java.util.Optional;
import java.util.function.Function;
import org.corral.core.config.ConfigFile;
import org.corral.core.config.ConfigStore;
import org.corral.core.config.Digest;

/**
 * One config store file, parsed once per version. While a watch reports changes, a read costs a
 * volatile load; without a watch every read asks the store for the version and reparses only when
 * the file changed. Writes made here are seen at once by the next read in this process.
 */
final class CachedFile<T> {
    private final ConfigStore store;
    private final String path;
    private final Function<String, T> parser;
    private volatile Snapshot<T> snapshot;
    private volatile boolean dirty = true;
    private volatile boolean watched;

    /** A parsed file: its text and store version ({@link ConfigStore#NEW} when it does not exist). */
    record Snapshot<T>(String text, int version, T value) {
        boolean exists() {
            return version != ConfigStore.NEW;
        }

        String digest() {
            return Digest.sha1Hex(text);
        }
    }

    CachedFile(ConfigStore store, String path, Function<String, T> parser) {
        this.store = requireNonNull(store, "store is null");
        this.path = requireNonNull(path, "path is null");
        this.parser = requireNonNull(parser, "parser is null");
    }

    String path() {
        return path;
    }

    /** From now on the store's watch reports changes, so reads need not ask the store. */
    void watched() {
        this.watched = true;
        this.dirty = true;
    }

    /** The store reported a change of this file. */
    void changed() {
        this.dirty = true;
    }

    T get() {
        return snapshot().value();
    }

    Snapshot<T> snapshot() {
        Snapshot<T> current = snapshot;
        if (watched && !dirty && current != null) {
            return current;
        }
        return reload();
    }

    private synchronized Snapshot<T> reload() {
        Snapshot<T> current = snapshot;
        if (watched && !dirty && current != null) {
            return current;
        }
        // cleared before the read, so a change reported during the read is not lost
        dirty = false;
        Optional<ConfigFile> file = store.read(path);
        String text = file.map(ConfigFile::text).orElse("");
        int version = file.map(ConfigFile::version).orElse(ConfigStore.NEW);
        if (current != null && current.version() == version && current.text().equals(text)) {
            return current;
        }
        Snapshot<T> fresh = new Snapshot<>(text, version, parser.apply(text));
        snapshot = fresh;
        return fresh;
    }

    /** Records a write made through this process, so the next read needs no store round trip. */
    synchronized void written(String text, int version) {
        Snapshot<T> current = snapshot;
        // a reload may already hold a later write of another client
        if (current == null || !current.exists() || current.version() < version) {
            snapshot = new Snapshot<>(text, version, parser.apply(text));
        }
    }
}
