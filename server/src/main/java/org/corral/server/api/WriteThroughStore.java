package org.corral.server.api;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import org.corral.core.config.ConfigFile;
import org.corral.core.config.ConfigStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's view of the config store: every successful write, overwrite, update or delete made
 * through it is passed to {@code written} before the call returns. In-memory indexes fed by store
 * watches use it to apply the node's own writes at once, since a watch reports them a moment
 * later: an API call that changed a guest config is followed by listings that show the change.
 */
public final class WriteThroughStore implements ConfigStore {
    private static final Logger log = LoggerFactory.getLogger(WriteThroughStore.class);
    private final ConfigStore store;
    private final Consumer<String> written;

    public WriteThroughStore(ConfigStore store, Consumer<String> written) {
        this.store = requireNonNull(store, "store is null");
        this.written = requireNonNull(written, "written is null");
    }

    @Override
    public Optional<ConfigFile> read(String path) {
        return store.read(path);
    }

    @Override
    public int write(String path, String text, int expectedVersion) {
        int version = store.write(path, text, expectedVersion);
        tell(path);
        return version;
    }

    @Override
    public int overwrite(String path, String text) {
        int version = store.overwrite(path, text);
        tell(path);
        return version;
    }

    @Override
    public boolean delete(String path, int expectedVersion) {
        boolean deleted = store.delete(path, expectedVersion);
        tell(path);
        return deleted;
    }

    @Override
    public String update(String path, UnaryOperator<String> change) {
        String text = store.update(path, change);
        tell(path);
        return text;
    }

    /** The write is done whatever happens here: a listener that fails leaves the change to its watch. */
    private void tell(String path) {
        try {
            written.accept(path);
        } catch (RuntimeException e) {
            log.warn("Applying the write of {} to the in-memory index failed; its watch will: {}", path, e.toString());
        }
    }

    @Override
    public List<String> list(String dir) {
        return store.list(dir);
    }

    @Override
    public void sync() {
        store.sync();
    }

    @Override
    public boolean quorate() {
        return store.quorate();
    }

    @Override
    public AutoCloseable watch(String prefix, Consumer<String> listener) {
        return store.watch(prefix, listener);
    }

    @Override
    public Lock lock(String name, Duration timeout) {
        return store.lock(name, timeout);
    }

    @Override
    public void close() {
        store.close();
    }
}
