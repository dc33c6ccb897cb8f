package org.corral.storage;

import java.util.List;

/**
 * Runs a host command and answers its standard output. Plugins of storages this machine may lack
 * (LVM, ZFS, Ceph) take one, so that tests can check the commands they would run.
 */
@FunctionalInterface
public interface CommandRunner {
    String run(List<String> command);

    /** Runs commands for real, through {@link Exec}. */
    static CommandRunner system() {
        return Exec::run;
    }
}
