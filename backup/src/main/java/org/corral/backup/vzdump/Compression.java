package org.corral.backup.vzdump;

import java.util.List;
import org.corral.core.error.ParameterError;

/** vzdump's {@code compress} choices, with the archive suffix and the Debian tool that does each. */
public enum Compression {
    NONE("", ""), GZIP(".gz", "gzip"), LZO(".lzo", "lzop"), ZSTD(".zst", "zstd");

    private final String suffix;
    private final String program;

    Compression(String suffix, String program) {
        this.suffix = suffix;
        this.program = program;
    }

    /** Parses the API value: {@code 0}, {@code 1} (lzo, as Proxmox), {@code gzip}, {@code lzo}, {@code zstd}. */
    public static Compression parse(String value) {
        return switch (value) {
            case "0" -> NONE;
            case "1", "lzo" -> LZO;
            case "gzip" -> GZIP;
            case "zstd" -> ZSTD;
            default -> throw new ParameterError("compress", "value '" + value + "' does not have a value in the enumeration '0, 1, gzip, lzo, zstd'");
        };
    }

    public String suffix() {
        return suffix;
    }

    /** The compressor reading stdin and writing stdout; {@code zstdThreads} 0 means half the cores, as vzdump. */
    public List<String> compressCommand(int zstdThreads) {
        return switch (this) {
            case NONE -> List.of();
            case GZIP -> List.of("gzip", "-c", "--rsyncable");
            case LZO -> List.of("lzop", "-c");
            case ZSTD -> List.of("zstd", "-q", "-c", "--threads=" + (zstdThreads == 0
                    ? Math.max(1, Runtime.getRuntime().availableProcessors() / 2) : zstdThreads));
        };
    }

    /** The decompressor reading stdin, or none. */
    public List<String> decompressCommand() {
        return this == NONE ? List.of() : List.of(program, "-d", "-c");
    }

    /** The compression of an archive by its name's suffix. */
    public static Compression ofName(String name) {
        for (Compression c : List.of(GZIP, LZO, ZSTD)) {
            if (name.endsWith(".tar" + c.suffix)) {
                return c;
            }
        }
        if (name.endsWith(".tar")) {
            return NONE;
        }
        throw new IllegalArgumentException("'" + name + "' is not a vzdump container archive (.tar, .tar.gz, .tar.lzo, .tar.zst)");
    }
}
