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
    }
}
