package org.corral.storage;

import java.util.List;
import org.corral.core.process.ProcessRunner;

/**
 * Runs a host command and answers its standard output. Plugins of storages this machine may lack
 * (LVM, ZFS, Ceph) take one, so that tests can check the commands they would run.
 */
@FunctionalInterface
public interface CommandRunner {
    String run(List<String> command);

    /** Runs commands for real, through {@link ProcessRunner}. */
    static CommandRunner system() {
        return command -> ProcessRunner.of(command).output();
    }
}
