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

    /**
     * The table.
     *
     * @param target    the dump target: {@code EM_X86_64} selects {@link X86_64PrStatus}, anything else
     *                  {@link I386PrStatus}
     * @param qemuNote  whether to write the QEMU note
     * @param canonical turns a vCPU state into canonical names (identity for x86_64)
     */
    public static List<CpuNote> of(DumpTarget target, boolean qemuNote, UnaryOperator<VcpuState> canonical) {
        List<CpuNote> table = new ArrayList<>();
        if (target.machine() == X86Elf.EM_X86_64) {
            table.add(new CpuNote(X86NoteDecoder.CORE, NoteType.NT_PRSTATUS, NoteGroup.ARCH, X86_64PrStatus.SIZE,
                    (cpu, out) -> X86_64PrStatus.write(canonical.apply(cpu), out)));
        } else {
            table.add(new CpuNote(X86NoteDecoder.CORE, NoteType.NT_PRSTATUS, NoteGroup.ARCH, I386PrStatus.SIZE,
                    (cpu, out) -> I386PrStatus.write(canonical.apply(cpu), out)));
        }
        if (qemuNote) {
            table.add(new CpuNote(X86NoteDecoder.QEMU, NoteType.NT_QEMU_CPU_STATE, NoteGroup.QEMU,
                    X86QemuCpuState.SIZE, (cpu, out) -> X86QemuCpuState.write(canonical.apply(cpu), out)));
        }
        return List.copyOf(table);
    }
}
