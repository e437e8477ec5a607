package io.guestdump.arch.x86_64;

import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.arch.api.VcpuState;
import io.guestdump.elf.ElfData;
import io.guestdump.elf.Note;
import io.guestdump.elf.NoteType;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads x86 CPU notes back into vCPU states with canonical names: every {@code CORE}/{@code NT_PRSTATUS} note
 * (x86_64 or i386 layout, told apart by size) and every {@code QEMU} note, matched by position. Where both hold a
 * register, the QEMU note wins: it keeps full-width values and the segment limits, flags and bases.
 */
public final class X86NoteDecoder {
    /** Owner of the prstatus notes. */
    public static final String CORE = "CORE";
    /** Owner of {@link X86QemuCpuState} notes. */
    public static final String QEMU = "QEMU";

    private X86NoteDecoder() {}

    /** Decodes the notes of one vmcore (VMCOREINFO excluded), in file order. Notes of other owners are ignored. */
    public static List<VcpuState> decode(List<Note> notes, ElfData data) {
        List<Note> prstatus = new ArrayList<>();
        List<Note> qemu = new ArrayList<>();
        for (Note n : notes) {
            if (n.owner().equals(CORE) && n.type() == NoteType.NT_PRSTATUS) {
                prstatus.add(n);
            } else if (n.owner().equals(QEMU) && n.type() == NoteType.NT_QEMU_CPU_STATE) {
                qemu.add(n);
            }
        }
        if (!prstatus.isEmpty() && !qemu.isEmpty() && prstatus.size() != qemu.size()) {
            throw new InvalidInputException("the vmcore has " + prstatus.size() + " NT_PRSTATUS notes but "
                    + qemu.size() + " QEMU notes; an x86 dump has one of each per vCPU. The file is damaged.");
        }
        int count = Math.max(prstatus.size(), qemu.size());
        List<VcpuState.Builder> builders = new ArrayList<>();
        List<Integer> pids = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            VcpuState.Builder b = VcpuState.builder(0);
            int pid = 0;
            if (!prstatus.isEmpty()) {
                pid = readPrStatus(prstatus.get(i), i, data, b);
            }
            if (!qemu.isEmpty()) {
                X86QemuCpuState.read(data.wrap(qemu.get(i).desc()), b, "QEMU note " + (i + 1) + " of " + count);
            }
            builders.add(b);
            pids.add(pid);
        }
        boolean pidsUsable = !prstatus.isEmpty();
        for (int i = 0; pidsUsable && i < count; i++) {
            pidsUsable = pids.get(i) >= 1 && (i == 0 || pids.get(i) > pids.get(i - 1));
        }
        List<VcpuState> cpus = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            // QEMU writes pr_pid = cpu_index + 1; fall back to the note's position when that is not usable
            int index = pidsUsable ? pids.get(i) - 1 : i;
            VcpuState s = builders.get(i).build();
            cpus.add(new VcpuState(index, s.registers()));
        }
        return cpus;
    }

    /** EFER.LME (bit 8) and EFER.LMA (bit 10). */
    static final long EFER_LONG_MODE = 0x500;

    private static int readPrStatus(Note note, int position, ElfData data, VcpuState.Builder into) {
        ByteBuffer in = data.wrap(note.desc());
        return switch (note.descSize()) {
            case X86_64PrStatus.SIZE -> {
                int pid = X86_64PrStatus.read(in, into);
                // No note holds EFER, but QEMU writes the x86_64 layout only for a vCPU in long mode: say so,
                // so that the guest dumps again as EM_X86_64 (EFER.LME | EFER.LMA).
                if (!into.has("efer")) {
                    into.set("efer", EFER_LONG_MODE);
                }
                yield pid;
            }
            case I386PrStatus.SIZE -> I386PrStatus.read(in, into);
            default -> throw new InvalidInputException("NT_PRSTATUS note " + (position + 1) + " is "
                    + note.descSize() + " bytes; x86 prstatus is " + X86_64PrStatus.SIZE + " (x86_64) or "
                    + I386PrStatus.SIZE + " (i386). The vmcore is not an x86 dump or is damaged.");
        };
    }
}
