package io.guestdump.arch.api;

import io.guestdump.memory.GuestMemory;
import java.io.IOException;

/** Walks a vCPU's page tables through guest-physical memory and reports what is mapped. */
public interface PageTableWalker {

    /** Whether the vCPU has paging enabled; QEMU walks from the first vCPU that has. */
    boolean pagingEnabled(VcpuState cpu);

    /**
     * Reports every present leaf mapping of the vCPU's address space, in ascending virtual order. Entries that
     * point outside guest RAM, and loops, are skipped and reported through {@link Sink#skipped}.
     */
    void walk(GuestState guest, VcpuState cpu, GuestMemory memory, Sink sink) throws IOException;

    /** Receives the walk's findings. */
    interface Sink {
        /** A mapping of {@code length} bytes from {@code virt} to {@code phys}. */
        void map(long virt, long phys, long length);

        /** A table entry the walk could not follow, and why. */
        void skipped(long tableEntryAddress, String reason);

        /**
         * A leaf mapping {@code length} bytes from {@code virt} to {@code phys}, where no guest RAM is: the kernel's
         * ordinary mappings of device memory (interrupt controllers, UARTs, PCI windows). Not damage, and not
         * dumped. By default reported as {@link #skipped}, for sinks written before this method.
         */
        default void deviceMemory(long virt, long phys, long length, long tableEntryAddress) {
            skipped(tableEntryAddress, "maps virtual " + io.guestdump.memory.PhysRange.hex(virt) + " to "
                    + io.guestdump.memory.PhysRange.hex(phys) + " (" + io.guestdump.memory.PhysRange.hex(length)
                    + " bytes), which is not guest RAM (device memory); not dumped");
        }
    }
}
