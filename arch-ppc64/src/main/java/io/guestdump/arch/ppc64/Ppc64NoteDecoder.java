package io.guestdump.arch.ppc64;

import io.guestdump.arch.api.DumpTarget;
import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.arch.api.VcpuState;
import io.guestdump.elf.Note;
import io.guestdump.elf.NoteType;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Reads the five ppc64 notes of each vCPU back into registers. Each {@code CORE} NT_PRSTATUS starts a vCPU; the
 * NT_PRFPREG, NT_PPC_VMX, NT_PPC_VSX and NT_PPC_SPE notes after it belong to it, whatever their owner
 * ({@code CORE} as QEMU writes them, {@code LINUX} as Linux and guestdump do). The vCPU index is the position of
 * its NT_PRSTATUS among the NT_PRSTATUS notes, not {@code pr_pid}, which QEMU 7.2 left 0. Other notes are skipped.
 */
final class Ppc64NoteDecoder {
    /** Descriptor size and reader per note type. */
    private static final Map<Integer, Layout> LAYOUTS = Map.of(
            NoteType.NT_PRSTATUS, new Layout("NT_PRSTATUS", Ppc64PrStatus.SIZE, Ppc64PrStatus::read),
            NoteType.NT_PRFPREG, new Layout("NT_PRFPREG", Ppc64FpRegSet.SIZE, Ppc64FpRegSet::read),
            Ppc64Elf.NT_PPC_VMX, new Layout("NT_PPC_VMX", Ppc64VmxRegSet.SIZE, Ppc64VmxRegSet::read),
            Ppc64Elf.NT_PPC_VSX, new Layout("NT_PPC_VSX", Ppc64VsxRegSet.SIZE, Ppc64VsxRegSet::read),
            Ppc64Elf.NT_PPC_SPE, new Layout("NT_PPC_SPE", Ppc64SpeRegSet.SIZE, Ppc64SpeRegSet::read));

    private record Layout(String name, int size, Reader reader) {}

    @FunctionalInterface
    private interface Reader {
        void read(ByteBuffer in, VcpuState.Builder into);
    }

    /** MSR[PR], problem (user) state. */
    static final long MSR_PR = 1L << 14;
    /** MSR[LE], little-endian execution. */
    static final long MSR_LE = 1L;

    private Ppc64NoteDecoder() {}

    static List<VcpuState> decode(List<Note> notes, DumpTarget target) {
        List<VcpuState> cpus = new ArrayList<>();
        VcpuState.Builder current = null;
        for (int i = 0; i < notes.size(); i++) {
            Note note = notes.get(i);
            Layout layout = LAYOUTS.get(note.type());
            boolean ours = note.owner().equals("CORE") || note.owner().equals("LINUX");
            if (layout == null || !ours) {
                continue;
            }
            if (note.type() == NoteType.NT_PRSTATUS) {
                if (!note.owner().equals("CORE")) {
                    continue;
                }
                if (current != null) {
                    cpus.add(current.build());
                }
                current = VcpuState.builder(cpus.size());
            } else if (current == null) {
                throw new InvalidInputException("note " + i + " (" + note.owner() + " " + layout.name()
                        + ") comes before any NT_PRSTATUS, so it belongs to no vCPU; a ppc64 vmcore starts each "
                        + "vCPU's notes with CORE NT_PRSTATUS");
            }
            if (note.descSize() != layout.size()) {
                throw new InvalidInputException("note " + i + " (" + note.owner() + " " + layout.name() + ") has "
                        + note.descSize() + " descriptor bytes; ppc64 ELF64 uses " + layout.size()
                        + " (is this a 32-bit ppc vmcore? only qemu-system-ppc64 dumps are read)");
            }
            layout.reader().read(target.data().wrap(note.desc()), current);
        }
        if (current != null) {
            cpus.add(current.build());
        }
        return cpus.stream().map(Ppc64NoteDecoder::inferInterruptEndian).toList();
    }

    /**
     * No note holds LPCR, so the decoded vCPU says nothing of its interrupt endianness, which decides the output's
     * byte order. A vCPU in privileged state (MSR[PR] = 0) runs the kernel, and Linux runs its kernel with
     * MSR[LE] equal to the interrupt endianness: take LPCR[ILE] from that. (QEMU 7.2 wrote big-endian dumps of
     * little-endian pseries guests; their MSR still says LE, so re-dumping them gives the right order.) A vCPU in
     * problem state says nothing; it is left as it is.
     */
    private static VcpuState inferInterruptEndian(VcpuState cpu) {
        if (cpu.has(Ppc64Registers.LPCR) || (cpu.u64(Ppc64Registers.MSR) & MSR_PR) != 0) {
            return cpu;
        }
        long ile = (cpu.u64(Ppc64Registers.MSR) & MSR_LE) != 0 ? Ppc64InterruptEndian.LPCR_ILE : 0;
        return cpu.with(java.util.Map.of(Ppc64Registers.LPCR, java.math.BigInteger.valueOf(ile)));
    }
}
