package org.corral.core.config;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;

/**
 * The cluster-wide tree of small configuration files, laid out like Proxmox's /etc/pve
 * ({@code user.cfg}, {@code priv/shadow.cfg}, {@code nodes/NODE/qemu-server/100.conf}).
 * Paths are relative, '/'-separated, without leading slash. Every write is atomic; writes that
 * name a version succeed only if the file is still at that version.
 */
public interface ConfigStore extends AutoCloseable {
    /** Version to pass when the file must not exist yet. */
    int NEW = -1;

    Optional<ConfigFile> read(String path);

    /**
     * Writes {@code text} if the file is at {@code expectedVersion} ({@link #NEW}: must not exist).
     * Returns the new version. Throws {@link StaleVersionException} when the check fails.
     */
    int write(String path, String text, int expectedVersion);

    /** Writes whatever version is there now, creating parents as needed. Returns the new version. */
    int overwrite(String path, String text);

    /** Deletes the file if it is at {@code expectedVersion}. Returns false if it did not exist. */
    boolean delete(String path, int expectedVersion);

    /** Names of the direct children of a directory, sorted; empty when it does not exist. */
    List<String> list(String dir);

    /** Makes the next reads of this client see every write acknowledged anywhere before the call. */
    void sync();

    /**
     * Whether this client is connected to a quorum now, so that writes can succeed: what
     * {@code /cluster/status} reports as {@code quorate}.
     */
    boolean quorate();

    /**
     * Calls {@code listener} with the path of every file created, changed or deleted under
     * {@code prefix}. Close the handle to stop.
     */
    AutoCloseable watch(String prefix, Consumer<String> listener);

    /**
     * Takes the named cluster-wide lock, waiting at most {@code timeout}. Throws
     * {@link org.corral.core.error.Conflict} ("can't lock ... - got timeout") when it is held elsewhere.
     */
    Lock lock(String name, Duration timeout);

    /**
     * Read-modify-write with retries on concurrent change: {@code change} gets the current text
     * ("" when missing) and returns the new text.
     */
    default String update(String path, UnaryOperator<String> change) {
        for (int attempt = 0; ; attempt++) {
            Optional<ConfigFile> current = read(path);
            String next = change.apply(current.map(ConfigFile::text).orElse(""));
            try {
                write(path, next, current.map(ConfigFile::version).orElse(NEW));
                return next;
            } catch (StaleVersionException e) {
                if (attempt > 50) {
                    throw e;
                }
            }
        }
    }

    @Override
    void close();

    /** A held cluster-wide lock. */
    interface Lock extends AutoCloseable {
        @Override
        void close();
    }
}
