package io.guestdump.core;

import io.guestdump.arch.api.DumpTarget;
import java.nio.file.Path;

/**
 * What a dump wrote.
 *
 * @param output           the vmcore's path, null when written to standard output
 * @param source           the source it came from
 * @param machine          the guest architecture
 * @param target           class, byte order, machine, page size
 * @param cpus             vCPUs written
 * @param notes            notes written
 * @param loads            PT_LOAD segments
 * @param memoryBytes      guest bytes stored
 * @param fileSize         bytes of the vmcore
 * @param vmcoreinfoOrigin where the VMCOREINFO note came from, null when there is none
 * @param nanos            wall time of the dump
 * @param capture          how a live source captured the guest (live snapshot and its downtime, or why it was
 *                         stopped instead), null for other sources
 */
public record DumpResult(Path output, String source, String machine, DumpTarget target, int cpus, int notes,
        int loads, long memoryBytes, long fileSize, String vmcoreinfoOrigin, long nanos, String capture) {

    /** A result without a capture remark. */
    public DumpResult(Path output, String source, String machine, DumpTarget target, int cpus, int notes, int loads,
            long memoryBytes, long fileSize, String vmcoreinfoOrigin, long nanos) {
        this(output, source, machine, target, cpus, notes, loads, memoryBytes, fileSize, vmcoreinfoOrigin, nanos, null);
    }
}
