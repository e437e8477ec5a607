package io.guestdump.arch.x86_64;

import io.guestdump.arch.api.VcpuState;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * {@code struct elf_prstatus} of the i386 ABI as QEMU's {@code x86_elf_prstatus} writes it, for qemu-system-i386
 * guests and for x86_64 guests whose first vCPU is not in long mode (in both ELF classes):
 *
 * <pre>
 *   offset size
 *        0   24  pr_info, pr_cursig, pr_sigpend, pr_sighold   (zero)
 *       24    4  pr_pid                                        (cpu index + 1)
 *       28   44  pr_ppid, pr_pgrp, pr_sid, 4 × timeval         (zero)
 *       72   68  pr_reg: 17 × u32 in {@link #REGISTERS} order   (user_regs_struct of i386)
 *      140    4  pr_fpvalid                                    (zero)
 *                = 144 bytes
 * </pre>
 *
 * <p>Every value is truncated to 32 bits, as QEMU does; the segment slots hold the 16-bit selector in their low
 * half and zero above it; {@code orig_eax} is always 0. The slots are named by the canonical (x86_64) register
 * that fills them: the {@code ebx} slot holds {@code rbx}'s low 32 bits.
 */
public final class I386PrStatus {
    /** {@code pr_pid}. */
    public static final int PID_OFFSET = 24;
    /** {@code pr_reg}. */
    public static final int REGS_OFFSET = 72;
    /** {@code pr_fpvalid}. */
    public static final int FPVALID_OFFSET = 140;
    /** Bytes of one {@code pr_reg} slot. */
    public static final int SLOT_SIZE = 4;
    /** {@code sizeof(struct elf_prstatus)} on i386. */
    public static final int SIZE = 144;

    /** The {@code orig_eax} slot; QEMU writes 0. */
    public static final String ORIG_EAX = "orig_eax";

    /**
     * The {@code pr_reg} slots in struct order: {@code ebx, ecx, edx, esi, edi, ebp, eax, ds, es, fs, gs,
     * orig_eax, eip, cs, eflags, esp, ss}, named by the canonical register that fills each.
     */
    public static final List<String> REGISTERS = List.of(
            "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rax", "ds.selector", "es.selector", "fs.selector",
            "gs.selector", ORIG_EAX, "rip", "cs.selector", "rflags", "rsp", "ss.selector");

    private static final long LOW_32 = 0xffff_ffffL;
    private static final int SELECTOR_MASK = 0xffff;

    private I386PrStatus() {}

    /** The absolute offset of a {@code pr_reg} slot, e.g. {@code offsetOf("rip") == 120}. */
    public static int offsetOf(String register) {
        int i = REGISTERS.indexOf(register);
        if (i < 0) {
            throw new IllegalArgumentException("no pr_reg slot for " + register + " in the i386 prstatus");
        }
        return REGS_OFFSET + i * SLOT_SIZE;
    }

    /** Fills a zeroed, {@link #SIZE}-byte, dump-ordered descriptor from canonical registers. */
    public static void write(VcpuState cpu, ByteBuffer out) {
        out.putInt(PID_OFFSET, cpu.index() + 1);
        for (int i = 0; i < REGISTERS.size(); i++) {
            String reg = REGISTERS.get(i);
            int value;
            if (reg.equals(ORIG_EAX)) {
                value = 0;
            } else if (reg.endsWith(".selector")) {
                value = X86Registers.u32(cpu, reg) & SELECTOR_MASK;
            } else {
                // QEMU: regs.eax = env->regs[R_EAX] & 0xffffffff, the documented truncation of this layout
                value = (int) (X86Registers.u64(cpu, reg) & LOW_32);
            }
            out.putInt(REGS_OFFSET + i * SLOT_SIZE, value);
        }
    }

    /** Reads the registers of a descriptor into {@code into}; returns {@code pr_pid}. */
    public static int read(ByteBuffer in, VcpuState.Builder into) {
        for (int i = 0; i < REGISTERS.size(); i++) {
            String reg = REGISTERS.get(i);
            if (reg.equals(ORIG_EAX)) {
                continue;
            }
            long slot = Integer.toUnsignedLong(in.getInt(REGS_OFFSET + i * SLOT_SIZE));
            into.set(reg, reg.endsWith(".selector") ? slot & SELECTOR_MASK : slot);
        }
        return in.getInt(PID_OFFSET);
    }
}
