package org.corral.backup.datastore;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.corral.backup.FileImageSource;

/**
 * Runs datastore work in a child JVM for {@link KillIT}, which kills it with SIGKILL at a random moment.
 * {@code backup STORE IMAGE CHUNKSIZE EPOCH}: back up IMAGE as vm/200 again and again, one minute apart from EPOCH.
 * {@code gc STORE}: garbage-collect with no grace period again and again.
 */
public final class DatastoreChild {
    private DatastoreChild() {}

    public static void main(String[] args) throws Exception {
        Path storePath = Path.of(args[1]);
        switch (args[0]) {
            case "backup" -> {
                DatastoreOptions options = DatastoreOptions.defaults().withChunkSize(Integer.parseInt(args[3]));
                try (Datastore store = Datastore.open(storePath, null, options)) {
                    Instant time = Instant.ofEpochSecond(Long.parseLong(args[4]));
                    for (int i = 0; ; i++) {
                        try (BackupWriter writer = store.startBackup("vm", "200", time.plusSeconds(60L * i));
                                FileImageSource source = new FileImageSource(Path.of(args[2]))) {
                            if (i == 0) {
                                System.out.println("backup-started");
                                System.out.flush();
                            }
                            writer.backupImage("drive-scsi0.img", source);
                            writer.finish();
                        }
                    }
                }
            }
            case "gc" -> {
                try (Datastore store = Datastore.open(storePath, null, DatastoreOptions.defaults())) {
                    for (int i = 0; ; i++) {
                        if (i == 0) {
                            System.out.println("gc-started");
                            System.out.flush();
                        }
                        store.garbageCollect(Duration.ZERO);
                    }
                }
            }
            default -> throw new IllegalArgumentException("unknown mode " + args[0]);
        }
    }
}
