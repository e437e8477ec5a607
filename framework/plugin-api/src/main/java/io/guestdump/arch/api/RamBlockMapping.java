package io.guestdump.arch.api;

/**
 * Where a piece of one of QEMU's RAMBlocks appears in guest-physical memory, e.g. {@code pc.ram} bytes
 * {@code [0, 0xa0000)} at address 0.
 *
 * @param block   the RAMBlock's id string as the migration stream names it ({@code pc.ram}, {@code mach-virt.ram})
 * @param offset  the first byte of the piece within the block
 * @param address its guest-physical address
 * @param length  bytes
 */
public record RamBlockMapping(String block, long offset, long address, long length) {

    /** Checks the numbers. */
    public RamBlockMapping {
        if (offset < 0 || length <= 0) {
            throw new IllegalArgumentException("RAMBlock " + block + " piece at offset " + offset + " of " + length
                    + " bytes");
        }
    }
}
