package io.guestdump.arch.x86_64;

import io.guestdump.arch.api.PrStatus;
import io.guestdump.arch.api.VcpuState;
import io.guestdump.elf.ElfClass;
import java.util.ArrayList;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * {@code struct elf_prstatus} of the i386 ABI as QEMU's {@code x86_elf_prstatus} writes it, for qemu-system-i386
 * guests and for x86_64 guests whose first vCPU is not in long mode (in both ELF classes): the Linux frame
 * ({@link PrStatus}, ELF32: the i386 ABI's long is 4 bytes in either file class) around 17 × u32:
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
    /** The {@code orig_eax} slot; QEMU writes 0. */
    public static final String ORIG_EAX = "orig_eax";

    /**
     * The {@code pr_reg} slots in struct order: {@code ebx, ecx, edx, esi, edi, ebp, eax, ds, es, fs, gs,
     * orig_eax, eip, cs, eflags, esp, ss}, named by the canonical register that fills each.
     */
    public static final List<String> REGISTERS = List.of(
            "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rax", "ds.selector", "es.selector", "fs.selector",
            "gs.selector", ORIG_EAX, "rip", "cs.selector", "rflags", "rsp", "ss.selector");

    /** Bytes of one {@code pr_reg} slot. */
    public static final int SLOT_SIZE = 4;
    private static final int SELECTOR_MASK = 0xffff;
    /** The frame. */
    public static final PrStatus FRAME = PrStatus.of(ElfClass.ELF32, slots());
    /** {@code pr_pid}. */
    public static final int PID_OFFSET = FRAME.pidOffset();
    /** {@code pr_reg}. */
    public static final int REGS_OFFSET = FRAME.regOffset();
    /** {@code pr_fpvalid}. */
    public static final int FPVALID_OFFSET = FRAME.fpvalidOffset();
    /** {@code sizeof(struct elf_prstatus)} on i386. */
    public static final int SIZE = FRAME.size();

    private I386PrStatus() {}

    private static List<PrStatus.Slot> slots() {
        List<PrStatus.Slot> s = new ArrayList<>();
        for (String r : REGISTERS) {
            if (r.equals(ORIG_EAX)) {
                s.add(PrStatus.Slot.zero(SLOT_SIZE));
            } else {
                // QEMU: regs.eax = env->regs[R_EAX] & 0xffffffff, the documented truncation of this layout
                s.add(new PrStatus.Slot(r, SLOT_SIZE, r.endsWith(".selector") ? SELECTOR_MASK : 0xffff_ffffL));
            }
        }
        return s;
    }

    /** The absolute offset of a {@code pr_reg} slot, e.g. {@code offsetOf("rip") == 120}. */
    public static int offsetOf(String register) {
        return FRAME.offsetOf(register);
    }

    /** Fills a zeroed, {@link #SIZE}-byte, dump-ordered descriptor from canonical registers. */
    public static void write(VcpuState cpu, ByteBuffer out) {
        FRAME.write(cpu, out, (c, r) -> r.endsWith(".selector")
                ? Integer.toUnsignedLong(X86Registers.u32(c, r)) : X86Registers.u64(c, r));
    }

    /** Reads the registers of a descriptor into {@code into}, and {@code pr_pid}. */
    public static void read(ByteBuffer in, VcpuState.Builder into) {
        FRAME.read(in, into);
    }
}
