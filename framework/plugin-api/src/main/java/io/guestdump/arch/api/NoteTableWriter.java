package io.guestdump.arch.api;

import io.guestdump.elf.Note;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes the CPU notes of a vmcore from a plugin's {@link CpuNote} table, in the framework's (and QEMU's) order:
 * every vCPU's {@link NoteGroup#ARCH} notes, vCPU by vCPU in table order, then every vCPU's {@link NoteGroup#QEMU}
 * notes. Each descriptor is exactly the row's {@code descSize}, zero-filled before the row's writer runs, in the
 * dump's byte order. {@link NoteTableReader} reads the result back with the same table.
 */
public final class NoteTableWriter {
    private NoteTableWriter() {}

    /** The CPU notes in file order. */
    public static List<Note> write(List<CpuNote> table, List<VcpuState> cpus, DumpTarget target) {
        List<Note> notes = new ArrayList<>();
        for (NoteGroup group : NoteGroup.values()) {
            for (VcpuState cpu : cpus) {
                for (CpuNote row : table) {
                    if (row.group() == group) {
                        notes.add(new Note(row.owner(), row.type(), describe(row, cpu, target)));
                    }
                }
            }
        }
        return notes;
    }

    private static byte[] describe(CpuNote row, VcpuState cpu, DumpTarget target) {
        ByteBuffer out = target.data().allocate(row.descSize());
        row.writer().write(cpu, out);
        if (out.capacity() != row.descSize()) {
            throw new IllegalStateException("note writer " + row.owner() + "/" + row.type() + " replaced its buffer");
        }
        return out.array();
    }
}
