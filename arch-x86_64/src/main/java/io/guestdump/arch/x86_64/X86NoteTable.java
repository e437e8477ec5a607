package io.guestdump.arch.x86_64;

import io.guestdump.arch.api.CpuNote;
import io.guestdump.arch.api.DumpTarget;
import io.guestdump.arch.api.NoteGroup;
import io.guestdump.arch.api.VcpuState;
import io.guestdump.elf.NoteType;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * The per-CPU note table of an x86 dump, as QEMU's {@code x86_cpu_write_elf{32,64}_note} and
 * {@code x86_cpu_write_elf{32,64}_qemunote} write it: {@code CORE}/{@code NT_PRSTATUS} in the layout the dump's
 * {@code e_machine} implies, then (in the QEMU group) one {@link X86QemuCpuState} per vCPU.
 */
public final class X86NoteTable {
    private X86NoteTable() {}

    /** Owner of the prstatus notes. */
    public static final String CORE = "CORE";
    /** Owner of {@link X86QemuCpuState} notes. */
    public static final String QEMU = "QEMU";
    /** EFER.LME (bit 8) and EFER.LMA (bit 10). */
    static final long EFER_LONG_MODE = 0x500;

    /**
     * The table a dump is written with.
     *
     * @param target    the dump target: {@code EM_X86_64} selects {@link X86_64PrStatus}, anything else
     *                  {@link I386PrStatus}
     * @param qemuNote  whether to write the QEMU note
     * @param canonical turns a vCPU state into canonical names (identity for x86_64)
     */
    public static List<CpuNote> of(DumpTarget target, boolean qemuNote, UnaryOperator<VcpuState> canonical) {
        List<CpuNote> table = new ArrayList<>();
        table.add(target.machine() == X86Elf.EM_X86_64 ? x86_64(canonical) : i386(canonical));
        if (qemuNote) {
            table.add(qemu(canonical));
        }
        return List.copyOf(table);
    }

    /**
     * The table any x86 vmcore is read with: both prstatus layouts (told apart by size) and the QEMU note, matched
     * by position. Where both hold a register the QEMU note, read second, wins: it keeps full-width values and the
     * segment limits, flags and bases. Registers come back with canonical names.
     */
    public static List<CpuNote> readTable() {
        CpuNote current = qemu(UnaryOperator.identity());
        // QEMU before kernel_gs_base joined the note (2.x) wrote it 8 bytes shorter; the reader takes either
        CpuNote old = new CpuNote(QEMU, NoteType.NT_QEMU_CPU_STATE, NoteGroup.QEMU,
                X86QemuCpuState.SIZE_WITHOUT_KERNEL_GS_BASE, current.writer(), current.reader());
        return List.of(x86_64(UnaryOperator.identity()), i386(UnaryOperator.identity()), current, old);
    }

    /**
     * The fix-up after decoding: no note holds EFER, but QEMU writes the x86_64 prstatus layout (an
     * {@code EM_X86_64} dump) only for a vCPU in long mode; say so, so that the guest dumps again as
     * {@code EM_X86_64} (EFER.LME | EFER.LMA).
     */
    public static VcpuState afterDecode(VcpuState cpu, DumpTarget target) {
        if (target.machine() == X86Elf.EM_X86_64 && !cpu.has("efer")) {
            return cpu.with(java.util.Map.of("efer", java.math.BigInteger.valueOf(EFER_LONG_MODE)));
        }
        return cpu;
    }

    private static CpuNote x86_64(UnaryOperator<VcpuState> canonical) {
        return X86_64PrStatus.FRAME.row(NoteGroup.ARCH, (cpu, out) -> X86_64PrStatus.write(canonical.apply(cpu), out),
                X86_64PrStatus::read);
    }

    private static CpuNote i386(UnaryOperator<VcpuState> canonical) {
        return I386PrStatus.FRAME.row(NoteGroup.ARCH, (cpu, out) -> I386PrStatus.write(canonical.apply(cpu), out),
                I386PrStatus::read);
    }

    private static CpuNote qemu(UnaryOperator<VcpuState> canonical) {
        return new CpuNote(QEMU, NoteType.NT_QEMU_CPU_STATE, NoteGroup.QEMU, X86QemuCpuState.SIZE,
                (cpu, out) -> X86QemuCpuState.write(canonical.apply(cpu), out),
                (in, into) -> X86QemuCpuState.read(in, into, "QEMU note"));
    }
}
