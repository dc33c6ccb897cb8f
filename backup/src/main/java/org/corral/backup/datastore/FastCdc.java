package org.corral.backup.datastore;

/**
 * A content-defined chunker (FastCDC with normalized chunking): a gear hash over the last 64 bytes decides where a
 * chunk ends, so inserting or removing bytes moves only the boundaries near the change. Below {@code avg} a cut
 * needs a stricter mask, above it a looser one, which keeps chunk sizes close to the average.
 */
public final class FastCdc {
    /** Chunk sizes: every chunk but the last is at least {@code min} and at most {@code max} bytes. */
    public record Sizes(int min, int avg, int max) {
        public static final Sizes DEFAULT = new Sizes(1 << 20, 4 << 20, 16 << 20);

        public Sizes {
            if (min < 64) {
                throw new IllegalArgumentException("minimum chunk size " + min + " is below 64 bytes");
            }
            if (Integer.bitCount(avg) != 1) {
                throw new IllegalArgumentException("average chunk size " + avg + " is not a power of two");
            }
            if (!(min <= avg && avg <= max)) {
                throw new IllegalArgumentException("chunk sizes must be min <= avg <= max, not " + min + ", " + avg + ", " + max);
            }
        }
    }

    private static final long[] GEAR = new long[256];

    static {
        // fixed pseudo-random table (SplitMix64 from a constant seed): the same bytes cut the same everywhere
        long x = 0x636f7272616c4344L;
        for (int i = 0; i < 256; i++) {
            x += 0x9E3779B97F4A7C15L;
            long z = x;
            z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
            z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
            GEAR[i] = z ^ (z >>> 31);
        }
    }

    private final Sizes sizes;
    private final long maskSmall;
    private final long maskLarge;

    public FastCdc(Sizes sizes) {
        this.sizes = sizes;
        int bits = Integer.numberOfTrailingZeros(sizes.avg());
        // the mask's bits are the top ones: those depend on the last 64 bytes, not only the last few
        this.maskSmall = topBits(Math.min(63, bits + 2));
        this.maskLarge = topBits(Math.max(1, bits - 2));
    }

    private static long topBits(int n) {
        return -1L << (64 - n);
    }

    public Sizes sizes() {
        return sizes;
    }

    /**
     * The length of the chunk starting at {@code off}, of the {@code len} bytes there. With {@code last} false the
     * data goes on after them, so {@code len} must be at least {@code max}; with {@code last} the remainder may end a
     * chunk early.
     */
    public int cut(byte[] data, int off, int len, boolean last) {
        if (!last && len < sizes.max()) {
            throw new IllegalArgumentException("need " + sizes.max() + " bytes to cut, have " + len);
        }
        if (len <= sizes.min()) {
            return len;
        }
        int end = Math.min(len, sizes.max());
        int normal = Math.min(end, sizes.avg());
        long fp = 0;
        int i = sizes.min();
        for (; i < normal; i++) {
            fp = (fp << 1) + GEAR[data[off + i] & 0xff];
            if ((fp & maskSmall) == 0) {
                return i + 1;
            }
        }
        for (; i < end; i++) {
            fp = (fp << 1) + GEAR[data[off + i] & 0xff];
            if ((fp & maskLarge) == 0) {
                return i + 1;
            }
        }
        return end;
    }
}
