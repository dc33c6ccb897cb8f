package org.corral.backup.datastore;

import static java.util.Objects.requireNonNull;

import java.util.BitSet;

/**
 * The ranges of an image written since the previous backup, as a bitmap with one bit per {@code granularity} bytes
 * (QEMU's persistent dirty bitmaps default to 64 KiB). A chunk must be read again when any of its bits is set.
 */
public record DirtyMap(long granularity, BitSet bits) {
    public DirtyMap {
        requireNonNull(bits, "bits is null");
        if (granularity <= 0) {
            throw new IllegalArgumentException("granularity must be positive");
        }
        bits = (BitSet) bits.clone();
    }

    /** A map with the given byte ranges ({@code {offset, length}} pairs) marked dirty. */
    public static DirtyMap ofRanges(long granularity, long[]... ranges) {
        BitSet bits = new BitSet();
        for (long[] range : ranges) {
            if (range.length != 2 || range[0] < 0 || range[1] < 0) {
                throw new IllegalArgumentException("a dirty range is {offset, length} with both not negative");
            }
            if (range[1] == 0) {
                continue;
            }
            long first = range[0] / granularity;
            long last = (range[0] + range[1] - 1) / granularity;
            bits.set(Math.toIntExact(first), Math.toIntExact(last + 1));
        }
        return new DirtyMap(granularity, bits);
    }

    /** True when any byte of {@code [start, end)} is dirty. */
    public boolean dirty(long start, long end) {
        if (end <= start) {
            return false;
        }
        int first = Math.toIntExact(start / granularity);
        int last = Math.toIntExact((end - 1) / granularity);
        int next = bits.nextSetBit(first);
        return next >= 0 && next <= last;
    }
}
