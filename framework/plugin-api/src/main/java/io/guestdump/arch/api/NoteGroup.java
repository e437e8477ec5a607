package io.guestdump.arch.api;

/** Where a per-CPU note goes in the PT_NOTE segment (QEMU's order). */
public enum NoteGroup {
    /** Written for each vCPU in turn, all of one vCPU's arch notes together (NT_PRSTATUS first). */
    ARCH,
    /** Written after every vCPU's ARCH notes, one per vCPU: QEMU's own CPU-state note. */
    QEMU
}
