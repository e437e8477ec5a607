package io.guestdump.arch.ppc64;

import io.guestdump.arch.api.PrStatus;
import io.guestdump.arch.api.VcpuState;
import io.guestdump.elf.ElfClass;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The NT_PRSTATUS descriptor of a ppc64 vCPU: the Linux frame ({@link PrStatus}, ELF64) with the ppc64
 * {@code pt_regs} as {@code pr_reg} (QEMU's {@code PPCElfPrstatus}), 504 bytes, in the dump's byte order.
 *
 * <pre>
 *   @0    pad 32 (pr_info, pr_cursig, pr_sigpend, pr_sighold)
 *   @32   pr_pid u32                      vCPU index + 1
 *   @36   pad 76 (pr_ppid .. pr_cstime)
 *   @112  pr_reg 48 x u64                 gpr0-31, nip, msr, orig_gpr3, ctr, link, xer, ccr,
 *                                         softe, trap, dar, dsisr, result, 4 x pad
 *   @496  pr_fpvalid u32                  0
 *   @500  pad 4
 *   = 504
 * </pre>
 */
public final class Ppc64PrStatus {
    /** Slots in {@code pr_reg} (Linux {@code ELF_NGREG}). */
    public static final int REG_SLOTS = 48;
    /**
     * The named {@code pr_reg} slots in struct order, by register name; the slots after them are padding. The
     * {@code link} slot holds {@code lr}, the {@code ccr} slot holds {@code cr}.
     */
    public static final List<String> REGS = regs();
    /** The frame. */
    public static final PrStatus FRAME = PrStatus.uniform(ElfClass.ELF64, Long.BYTES, withPadding());
    /** Offset of {@code pr_pid}. */
    public static final int PID_OFFSET = FRAME.pidOffset();
    /** Offset of {@code pr_reg}. */
    public static final int REGS_OFFSET = FRAME.regOffset();
    /** Offset of {@code pr_fpvalid}. */
    public static final int FPVALID_OFFSET = FRAME.fpvalidOffset();
    /** {@code sizeof(struct elf_prstatus)} on ppc64. */
    public static final int SIZE = FRAME.size();

    private Ppc64PrStatus() {}

    /** Byte offset in the descriptor of the {@code pr_reg} slot holding {@code register}. */
    public static int offsetOf(String register) {
        return FRAME.offsetOf(register);
    }

    /** Fills the zeroed descriptor for one vCPU; {@code pr_fpvalid} stays 0, as QEMU leaves it. */
    public static void write(VcpuState cpu, ByteBuffer out) {
        FRAME.write(cpu, out);
    }

    /** Reads the {@code pr_reg} slots and {@code pr_pid} (QEMU 7.2 wrote 0: the position numbers the vCPU). */
    public static void read(ByteBuffer in, VcpuState.Builder into) {
        FRAME.read(in, into);
    }

    private static List<String> regs() {
        List<String> regs = new ArrayList<>(Ppc64Registers.GPRS);
        regs.addAll(List.of("nip", "msr", "orig_gpr3", "ctr", "lr", "xer", Ppc64Registers.CR,
                "softe", "trap", "dar", "dsisr", "result"));
        if (regs.size() + 4 != REG_SLOTS) {
            throw new IllegalStateException("pr_reg layout has " + regs.size() + " named slots");
        }
        return List.copyOf(regs);
    }

    private static List<String> withPadding() {
        List<String> slots = new ArrayList<>(regs());
        while (slots.size() < REG_SLOTS) {
            slots.add(null);
        }
        return slots;
    }
}
