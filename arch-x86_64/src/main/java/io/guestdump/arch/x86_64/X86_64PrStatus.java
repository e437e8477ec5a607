package io.guestdump.arch.x86_64;

import io.guestdump.arch.api.PrStatus;
import io.guestdump.arch.api.VcpuState;
import io.guestdump.elf.ElfClass;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * {@code struct elf_prstatus} of the x86_64 ABI as QEMU's {@code x86_64_elf_prstatus} writes it (descriptor of a
 * {@code CORE}/{@code NT_PRSTATUS} note): the Linux frame ({@link PrStatus}, ELF64) around 27 × u64:
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

    /** Bytes of one {@code pr_reg} slot. */
    public static final int SLOT_SIZE = 8;
    /** The frame. */
    public static final PrStatus FRAME = PrStatus.uniform(ElfClass.ELF64, SLOT_SIZE,
            REGISTERS.stream().map(r -> r.equals(ORIG_RAX) ? null : r).toList());
    /** {@code pr_pid}. */
    public static final int PID_OFFSET = FRAME.pidOffset();
    /** {@code pr_reg}. */
    public static final int REGS_OFFSET = FRAME.regOffset();
    /** {@code pr_fpvalid}. */
    public static final int FPVALID_OFFSET = FRAME.fpvalidOffset();
    /** {@code sizeof(struct elf_prstatus)} on x86_64. */
    public static final int SIZE = FRAME.size();

    private X86_64PrStatus() {}

    /** The absolute offset of a {@code pr_reg} slot, e.g. {@code offsetOf("rip") == 240}. */
    public static int offsetOf(String register) {
        return FRAME.offsetOf(register);
    }

    /** Fills a zeroed, {@link #SIZE}-byte, dump-ordered descriptor from canonical registers. */
    public static void write(VcpuState cpu, ByteBuffer out) {
        FRAME.write(cpu, out, X86Registers::u64);
    }

    /** Reads the registers of a descriptor into {@code into}, and {@code pr_pid}. */
    public static void read(ByteBuffer in, VcpuState.Builder into) {
        FRAME.read(in, into);
    }
}
