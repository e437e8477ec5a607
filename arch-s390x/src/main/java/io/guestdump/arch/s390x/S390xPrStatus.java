package io.guestdump.arch.s390x;

import static io.guestdump.arch.s390x.S390xRegisters.COUNT_16;
import static io.guestdump.arch.s390x.S390xRegisters.acr;
import static io.guestdump.arch.s390x.S390xRegisters.gpr;
import static io.guestdump.arch.s390x.S390xRegisters.unsigned;

import io.guestdump.arch.api.VcpuState;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.util.Map;

/**
 * The s390x {@code elf_prstatus} (QEMU {@code S390xElfPrstatus}), descriptor of the CORE {@code NT_PRSTATUS} note:
 *
 * <pre>
 *   @0    pad 32           pr_info, pr_cursig, pr_sigpend, pr_sighold: zero
 *   @32   pr_pid   u32     vCPU index + 1
 *   @36   pad 76           pr_ppid … pr_cstime: zero
 *   @112  pr_reg           s390_regs (user_regs_struct without orig_gpr2):
 *   @112    psw.mask u64
 *   @120    psw.addr u64
 *   @128    gprs     16 × u64   r0 … r15
 *   @256    acrs     16 × u32   a0 … a15
 *   @320  pad 16           orig_gpr2, pr_fpvalid, padding: zero
 *   = 336 bytes, every field big-endian
 * </pre>
 */
public final class S390xPrStatus {
    /** Descriptor size. */
    public static final int SIZE = 336;
    /** {@code pr_pid}: vCPU index + 1. */
    public static final int PID_OFFSET = 32;
    /** {@code pr_reg}: start of the register block. */
    public static final int REGS_OFFSET = 112;
    /** {@code psw.mask}. */
    public static final int PSW_MASK_OFFSET = REGS_OFFSET;
    /** {@code psw.addr}. */
    public static final int PSW_ADDR_OFFSET = REGS_OFFSET + 8;
    /** {@code gprs[0]}. */
    public static final int GPRS_OFFSET = REGS_OFFSET + 16;
    /** {@code acrs[0]}. */
    public static final int ACRS_OFFSET = GPRS_OFFSET + COUNT_16 * 8;
    /** First byte after the registers: 16 zero bytes follow. */
    public static final int REGS_END_OFFSET = ACRS_OFFSET + COUNT_16 * 4;

    private S390xPrStatus() {}

    /** Writes the descriptor of one vCPU into a zero-filled big-endian buffer of {@link #SIZE} bytes. */
    public static void write(VcpuState cpu, ByteBuffer out) {
        out.putInt(PID_OFFSET, Math.addExact(cpu.index(), 1));
        out.putLong(PSW_MASK_OFFSET, cpu.u64(S390xRegisters.PSW_MASK));
        out.putLong(PSW_ADDR_OFFSET, cpu.u64(S390xRegisters.PSW_ADDR));
        for (int i = 0; i < COUNT_16; i++) {
            out.putLong(GPRS_OFFSET + 8 * i, cpu.u64(gpr(i)));
        }
        for (int i = 0; i < COUNT_16; i++) {
            out.putInt(ACRS_OFFSET + 4 * i, cpu.u32(acr(i)));
        }
    }

    /** Reads the registers of one descriptor; {@code pr_pid} is not a register and is left out. */
    public static void read(ByteBuffer in, Map<String, BigInteger> cpu) {
        cpu.put(S390xRegisters.PSW_MASK, unsigned(in.getLong(PSW_MASK_OFFSET)));
        cpu.put(S390xRegisters.PSW_ADDR, unsigned(in.getLong(PSW_ADDR_OFFSET)));
        for (int i = 0; i < COUNT_16; i++) {
            cpu.put(gpr(i), unsigned(in.getLong(GPRS_OFFSET + 8 * i)));
        }
        for (int i = 0; i < COUNT_16; i++) {
            cpu.put(acr(i), unsigned(Integer.toUnsignedLong(in.getInt(ACRS_OFFSET + 4 * i))));
        }
    }
}
