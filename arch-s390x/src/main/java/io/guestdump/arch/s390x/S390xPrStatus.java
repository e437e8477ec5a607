package io.guestdump.arch.s390x;

import static io.guestdump.arch.s390x.S390xRegisters.COUNT_16;
import static io.guestdump.arch.s390x.S390xRegisters.acr;
import static io.guestdump.arch.s390x.S390xRegisters.gpr;

import io.guestdump.arch.api.PrStatus;
import io.guestdump.arch.api.VcpuState;
import io.guestdump.elf.ElfClass;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The s390x {@code elf_prstatus} (QEMU {@code S390xElfPrstatus}), descriptor of the CORE {@code NT_PRSTATUS} note:
 * the Linux frame ({@link PrStatus}, ELF64) around {@code s390_regs}:
 *
 * <pre>
 *   @112  psw.mask u64
 *   @120  psw.addr u64
 *   @128  gprs     16 × u64   r0 … r15
 *   @256  acrs     16 × u32   a0 … a15
 *   @320  orig_gpr2 u64      zero
 *   @328  pr_fpvalid, padding: zero
 *   = 336 bytes, every field big-endian
 * </pre>
 */
public final class S390xPrStatus {
    /** The frame. */
    public static final PrStatus FRAME = PrStatus.of(ElfClass.ELF64, slots());
    /** Descriptor size. */
    public static final int SIZE = FRAME.size();
    /** {@code pr_pid}: vCPU index + 1. */
    public static final int PID_OFFSET = FRAME.pidOffset();
    /** {@code pr_reg}: start of the register block. */
    public static final int REGS_OFFSET = FRAME.regOffset();
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

    private static List<PrStatus.Slot> slots() {
        List<PrStatus.Slot> s = new ArrayList<>();
        s.add(PrStatus.Slot.of(S390xRegisters.PSW_MASK, 8));
        s.add(PrStatus.Slot.of(S390xRegisters.PSW_ADDR, 8));
        for (int i = 0; i < COUNT_16; i++) {
            s.add(PrStatus.Slot.of(gpr(i), 8));
        }
        for (int i = 0; i < COUNT_16; i++) {
            s.add(PrStatus.Slot.of(acr(i), 4));
        }
        s.add(PrStatus.Slot.zero(8)); // orig_gpr2
        return s;
    }

    /** Writes the descriptor of one vCPU into a zero-filled big-endian buffer of {@link #SIZE} bytes. */
    public static void write(VcpuState cpu, ByteBuffer out) {
        FRAME.write(cpu, out);
    }

    /**
     * Reads the registers of one descriptor. {@code pr_pid} is not reported: QEMU 7.2 byte-swapped it on s390x and
     * older QEMUs wrote 0, so the vCPU index is the note's position.
     */
    public static void read(ByteBuffer in, VcpuState.Builder cpu) {
        VcpuState.Builder scratch = VcpuState.builder(0);
        FRAME.read(in, scratch);
        scratch.registers().forEach(cpu::set);
    }
}
