package io.guestdump.arch.x86_64;

import io.guestdump.arch.api.VcpuState;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * {@code struct elf_prstatus} of the x86_64 ABI as QEMU's {@code x86_64_elf_prstatus} writes it (descriptor of a
 * {@code CORE}/{@code NT_PRSTATUS} note):
 *
 * <pre>
 *   offset size
 *        0   32  pr_info, pr_cursig, pr_sigpend, pr_sighold   (zero)
 *       32    4  pr_pid                                        (cpu index + 1)
 *       36   76  pr_ppid, pr_pgrp, pr_sid, 4 × timeval         (zero)
 *      112  216  pr_reg: 27 × u64 in {@link #REGISTERS} order   (user_regs_struct)
 *      328    4  pr_fpvalid                                    (zero)
 *      332    4  padding to 8
 *                = 336 bytes
 * </pre>
 *
 * <p>Segment slots ({@code cs}, {@code ss}, {@code ds}, {@code es}, {@code fs}, {@code gs}) hold selectors,
 * {@code fs_base}/{@code gs_base} the segment bases; {@code orig_rax} is always 0.
 */
public final class X86_64PrStatus {
    /** {@code pr_pid}. */
    public static final int PID_OFFSET = 32;
    /** {@code pr_reg}. */
    public static final int REGS_OFFSET = 112;
    /** {@code pr_fpvalid}. */
    public static final int FPVALID_OFFSET = 328;
    /** Bytes of one {@code pr_reg} slot. */
    public static final int SLOT_SIZE = 8;
    /** {@code sizeof(struct elf_prstatus)} on x86_64. */
    public static final int SIZE = 336;

    /** The {@code orig_rax} slot: the syscall number of an interrupted syscall; QEMU writes 0. */
    public static final String ORIG_RAX = "orig_rax";

    /**
     * The {@code pr_reg} slots in struct order ({@code user_regs_struct}), each named by the canonical register
     * that fills it: {@code r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8, rax, rcx, rdx, rsi, rdi, orig_rax,
     * rip, cs, eflags, rsp, ss, fs_base, gs_base, ds, es, fs, gs}.
     */
    public static final List<String> REGISTERS = List.of(
            "r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8",
            "rax", "rcx", "rdx", "rsi", "rdi", ORIG_RAX, "rip", "cs.selector", "rflags", "rsp", "ss.selector",
            "fs.base", "gs.base", "ds.selector", "es.selector", "fs.selector", "gs.selector");

    private X86_64PrStatus() {}

    /** The absolute offset of a {@code pr_reg} slot, e.g. {@code offsetOf("rip") == 240}. */
    public static int offsetOf(String register) {
        int i = REGISTERS.indexOf(register);
        if (i < 0) {
            throw new IllegalArgumentException("no pr_reg slot for " + register + " in the x86_64 prstatus");
        }
        return REGS_OFFSET + i * SLOT_SIZE;
    }

    /** Fills a zeroed, {@link #SIZE}-byte, dump-ordered descriptor from canonical registers. */
    public static void write(VcpuState cpu, ByteBuffer out) {
        out.putInt(PID_OFFSET, cpu.index() + 1);
        for (int i = 0; i < REGISTERS.size(); i++) {
            String reg = REGISTERS.get(i);
            long value = reg.equals(ORIG_RAX) ? 0 : X86Registers.u64(cpu, reg);
            out.putLong(REGS_OFFSET + i * SLOT_SIZE, value);
        }
    }

    /** Reads the registers of a descriptor into {@code into}; returns {@code pr_pid}. */
    public static int read(ByteBuffer in, VcpuState.Builder into) {
        for (int i = 0; i < REGISTERS.size(); i++) {
            String reg = REGISTERS.get(i);
            if (!reg.equals(ORIG_RAX)) {
                into.set(reg, in.getLong(REGS_OFFSET + i * SLOT_SIZE));
            }
        }
        return in.getInt(PID_OFFSET);
    }
}
