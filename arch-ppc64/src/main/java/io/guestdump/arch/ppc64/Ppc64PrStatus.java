package io.guestdump.arch.ppc64;

import io.guestdump.arch.api.VcpuState;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The NT_PRSTATUS descriptor of a ppc64 vCPU: Linux {@code struct elf_prstatus} with the ppc64 {@code pt_regs}
 * as {@code pr_reg} (QEMU's {@code PPCElfPrstatus}), 504 bytes, in the dump's byte order.
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
    /** Offset of {@code pr_pid}. */
    public static final int PID_OFFSET = 32;
    /** Offset of {@code pr_reg}. */
    public static final int REGS_OFFSET = 112;
    /** Slots in {@code pr_reg} (Linux {@code ELF_NGREG}). */
    public static final int REG_SLOTS = 48;
    /** Offset of {@code pr_fpvalid}. */
    public static final int FPVALID_OFFSET = 496;
    /** {@code sizeof(struct elf_prstatus)} on ppc64. */
    public static final int SIZE = 504;

    /**
     * The named {@code pr_reg} slots in struct order, by register name; the slots after them are padding. The
     * {@code link} slot holds {@code lr}, the {@code ccr} slot holds {@code cr}.
     */
    public static final List<String> REGS = regs();

    private Ppc64PrStatus() {}

    /** Byte offset in the descriptor of the {@code pr_reg} slot holding {@code register}. */
    public static int offsetOf(String register) {
        int slot = REGS.indexOf(register);
        if (slot < 0) {
            throw new IllegalArgumentException(register + " has no pr_reg slot; slots are " + REGS);
        }
        return REGS_OFFSET + slot * Long.BYTES;
    }

    /** Fills the zeroed descriptor for one vCPU. */
    public static void write(VcpuState cpu, ByteBuffer out) {
        out.putInt(PID_OFFSET, Math.addExact(cpu.index(), 1));
        for (int slot = 0; slot < REGS.size(); slot++) {
            out.putLong(REGS_OFFSET + slot * Long.BYTES, cpu.u64(REGS.get(slot)));
        }
        // pr_fpvalid stays 0, as QEMU leaves it: the FP registers are in their own note anyway
    }

    /** Reads the {@code pr_reg} slots into the builder; {@code pr_pid} is ignored (QEMU 7.2 wrote 0). */
    public static void read(ByteBuffer in, VcpuState.Builder into) {
        for (int slot = 0; slot < REGS.size(); slot++) {
            into.set(REGS.get(slot), in.getLong(REGS_OFFSET + slot * Long.BYTES));
        }
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
}
