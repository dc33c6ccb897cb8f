package org.corral.storage;

import static java.util.Objects.requireNonNull;

import java.util.Optional;
import java.util.OptionalInt;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A guest disk's name without format suffix: {@code vm-100-disk-0}, {@code base-100-disk-0}
 * (template), {@code subvol-100-disk-0} (container directory), {@code basevol-100-disk-0},
 * {@code vm-100-cloudinit}, {@code vm-100-state-snap1}.
 *
 * @param rest what follows {@code PREFIX-VMID-}: {@code disk-0}, {@code cloudinit}
 */
public record DiskName(Prefix prefix, int vmid, String rest) {
    private static final Pattern NAME = Pattern.compile("(vm|base|subvol|basevol)-([1-9][0-9]{2,8})-([A-Za-z0-9][A-Za-z0-9_+\\-]*)");
    private static final Pattern DISK = Pattern.compile("disk-(0|[1-9][0-9]{0,5})");

    public DiskName {
        requireNonNull(prefix, "prefix is null");
        requireNonNull(rest, "rest is null");
        if (!NAME.matcher(prefix.text + "-" + vmid + "-" + rest).matches()) {
            throw new IllegalArgumentException("invalid disk name '" + prefix.text + "-" + vmid + "-" + VolumeNames.printable(rest) + "'");
        }
    }

    public enum Prefix {
        VM("vm"), BASE("base"), SUBVOL("subvol"), BASEVOL("basevol");

        private final String text;

        Prefix(String text) {
            this.text = text;
        }

        public String text() {
            return text;
        }

        public boolean isBase() {
            return this == BASE || this == BASEVOL;
        }

        /** The prefix of the template made from a volume with this prefix, and back. */
        public Prefix asBase() {
            return switch (this) {
                case VM, BASE -> BASE;
                case SUBVOL, BASEVOL -> BASEVOL;
            };
        }

        public Prefix asVolume() {
            return switch (this) {
                case VM, BASE -> VM;
                case SUBVOL, BASEVOL -> SUBVOL;
            };
        }

        static Prefix of(String text) {
            for (Prefix p : values()) {
                if (p.text.equals(text)) {
                    return p;
                }
            }
            throw new IllegalArgumentException("unknown disk prefix '" + text + "'");
        }
    }

    public static Optional<DiskName> parse(String name) {
        Matcher m = NAME.matcher(name);
        if (!m.matches()) {
            return Optional.empty();
        }
        return Optional.of(new DiskName(Prefix.of(m.group(1)), Integer.parseInt(m.group(2)), m.group(3)));
    }

    /** {@code vm-VMID-disk-N} or, for container directories, {@code subvol-VMID-disk-N}. */
    public static DiskName disk(int vmid, int number, boolean subvol) {
        return new DiskName(subvol ? Prefix.SUBVOL : Prefix.VM, vmid, "disk-" + number);
    }

    /** The cloud-init drive of a VM, {@code vm-VMID-cloudinit}. */
    public static DiskName cloudinit(int vmid) {
        return new DiskName(Prefix.VM, vmid, "cloudinit");
    }

    /** The disk number of a {@code ...-disk-N} name. */
    public OptionalInt diskNumber() {
        Matcher m = DISK.matcher(rest);
        return m.matches() ? OptionalInt.of(Integer.parseInt(m.group(1))) : OptionalInt.empty();
    }

    public DiskName withPrefix(Prefix other) {
        return new DiskName(other, vmid, rest);
    }

    public DiskName withVmid(int other) {
        return new DiskName(prefix, other, rest);
    }

    @Override
    public String toString() {
        return prefix.text + "-" + vmid + "-" + rest;
    }
}
