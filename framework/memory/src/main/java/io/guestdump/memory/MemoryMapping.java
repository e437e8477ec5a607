package io.guestdump.memory;

/**
 * One virtual-to-physical mapping, which becomes one PT_LOAD (QEMU's {@code MemoryMapping}).
 *
 * @param phys   first guest-physical address
 * @param virt   first virtual address; equal to phys in simple mode
 * @param length bytes mapped
 */
public record MemoryMapping(long phys, long virt, long length) {

    /** Checks that neither range wraps around the 64-bit space. */
    public MemoryMapping {
        PhysRange.ofLength(phys, length);
        PhysRange.ofLength(virt, length);
    }

    /** The physical range mapped. */
    public PhysRange physRange() {
        return PhysRange.ofLength(phys, length);
    }
}
