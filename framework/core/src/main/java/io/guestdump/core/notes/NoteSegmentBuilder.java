package io.guestdump.core.notes;

import io.guestdump.arch.api.CpuNote;
import io.guestdump.arch.api.DumpTarget;
import io.guestdump.arch.api.NoteTableWriter;
import io.guestdump.arch.api.VcpuState;
import io.guestdump.elf.Note;
import io.guestdump.elf.NoteType;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds the notes of a vmcore from a plugin's note table: every vCPU's {@link io.guestdump.arch.api.NoteGroup#ARCH} notes (vCPU by
 * vCPU), then every vCPU's {@link io.guestdump.arch.api.NoteGroup#QEMU} note, then the guest's VMCOREINFO, then notes carried over
 * from an input vmcore. The same table sizes and fills each note, so they cannot disagree.
 */
public final class NoteSegmentBuilder {
    /** Owner name of the guest kernel's VMCOREINFO note. */
    public static final String VMCOREINFO_OWNER = "VMCOREINFO";

    private NoteSegmentBuilder() {}

    /** The notes in file order. */
    public static List<Note> build(
            List<CpuNote> table, List<VcpuState> cpus, DumpTarget target, String vmcoreinfo, List<Note> carried) {
        List<Note> notes = new ArrayList<>(NoteTableWriter.write(table, cpus, target));
        if (vmcoreinfo != null) {
            notes.add(vmcoreinfoNote(vmcoreinfo));
        }
        notes.addAll(carried);
        return notes;
    }

    /** The bytes {@link #build} would encode, computed from the table without building a note. */
    public static long encodedSize(List<CpuNote> table, int cpus, String vmcoreinfo, List<Note> carried) {
        long perCpu = 0;
        for (CpuNote row : table) {
            perCpu = Math.addExact(perCpu, Note.encodedSize(row.owner(), row.descSize()));
        }
        long total = Math.multiplyExact(perCpu, (long) cpus);
        if (vmcoreinfo != null) {
            total = Math.addExact(total, Note.encodedSize(VMCOREINFO_OWNER,
                    vmcoreinfo.getBytes(StandardCharsets.UTF_8).length));
        }
        for (Note n : carried) {
            total = Math.addExact(total, n.encodedSize());
        }
        return total;
    }

    /** The guest note QEMU copies from the guest: owner VMCOREINFO, type 0, the text as descriptor. */
    public static Note vmcoreinfoNote(String text) {
        return new Note(VMCOREINFO_OWNER, NoteType.NT_VMCOREINFO, text.getBytes(StandardCharsets.UTF_8));
    }
}
