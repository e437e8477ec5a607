package io.guestdump.memory;

/**
 * One block of guest-physical memory (QEMU's {@code GuestPhysBlock}): a range and the bytes behind it. Blocks need
 * not be page aligned.
 *
 * @param range where the block lies in guest-physical space
 * @param data  its bytes; {@code data.size() == range.length()}
 * @param name  where it came from, for messages (file name, memory region name)
 */
public record GuestBlock(PhysRange range, BlockData data, String name) {

    /** Checks that the data covers the range exactly. */
    public GuestBlock {
        if (data.size() != range.length()) {
            throw new IllegalArgumentException("block " + name + " " + range + " has " + data.size()
                    + " bytes of data for " + range.length() + " bytes of range");
        }
    }

    /** The part of this block inside {@code window}, or null when they do not overlap. */
    public GuestBlock clip(PhysRange window) {
        PhysRange common = range.intersect(window);
        if (common.isEmpty()) {
            return null;
        }
        return new GuestBlock(common, data.slice(common.start() - range.start(), common.length()), name);
    }

    @Override
    public String toString() {
        return name + " " + range;
    }
}
