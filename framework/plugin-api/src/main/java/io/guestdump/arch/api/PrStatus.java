package io.guestdump.arch.api;

import io.guestdump.elf.ElfClass;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Linux's {@code struct elf_prstatus} ({@code include/linux/elfcore.h}), the descriptor of every {@code CORE}
 * {@code NT_PRSTATUS} note, with the architecture's {@code pr_reg} ({@code elf_gregset_t}) as a list of slots.
 * Everything around {@code pr_reg} is the same on every architecture; only the word size changes it:
 *
 * <pre>
 *   field                         ELF64 (8-byte long)   ELF32 (4-byte long)
 *   pr_info (3 × int)             @0   12               @0   12
 *   pr_cursig (short) + pad       @12   4               @12   4
 *   pr_sigpend, pr_sighold        @16  2 × 8            @16  2 × 4
 *   pr_pid                        @32   4   = vCPU index + 1
 *   pr_ppid, pr_pgrp, pr_sid      @36  3 × 4            @28  3 × 4
 *   pr_utime … pr_cstime          @48  4 × 16           @40  4 × 8
 *   pr_reg                        @112                  @72
 *   pr_fpvalid (int)              after pr_reg
 *   padding                       to a multiple of 8    to a multiple of 4
 * </pre>
 *
 * <p>{@code pr_pid} is the vCPU index + 1, as QEMU writes it (each vCPU looks like a thread of one process); every
 * other field outside {@code pr_reg} is zero. This is the one place that rule is written down.
 *
 * <p>Examples: 27 × 8-byte slots = 336 bytes, 34 × 8 = 392, 48 × 8 = 504, 32 × 8 = 376 (ELF64); 17 × 4 = 144,
 * 18 × 4 = 148 (ELF32).
 */
public final class PrStatus {
    /** {@code pr_pid}, relative to the descriptor start, in ELF64 and ELF32. */
    public static final int PID_OFFSET_64 = 32;
    /** {@code pr_pid} in ELF32. */
    public static final int PID_OFFSET_32 = 24;
    /** {@code pr_reg} in ELF64. */
    public static final int REG_OFFSET_64 = 112;
    /** {@code pr_reg} in ELF32. */
    public static final int REG_OFFSET_32 = 72;
    /** {@code sizeof(pr_fpvalid)}. */
    public static final int FPVALID_SIZE = 4;

    /**
     * One {@code pr_reg} slot.
     *
     * @param register the register that fills it, or null for a slot that is always written 0 and never read
     *                 ({@code orig_rax}); the name is looked up in the vCPU state
     * @param size     4 or 8 bytes
     * @param mask     the bits of the register the slot holds, e.g. {@code 0xffff} for a selector; -1 for all
     */
    public record Slot(String register, int size, long mask) {
        /** Checks the size. */
        public Slot {
            if (size != 4 && size != 8) {
                throw new IllegalArgumentException("a pr_reg slot is 4 or 8 bytes, not " + size);
            }
        }

        /** A slot holding the whole register (truncated to {@code size} bytes, as QEMU does). */
        public static Slot of(String register, int size) {
            return new Slot(register, size, -1L);
        }

        /** A slot that is always zero. */
        public static Slot zero(int size) {
            return new Slot(null, size, 0);
        }
    }

    /** How the writer reads a register's value; the default is {@link VcpuState#u64}. */
    @FunctionalInterface
    public interface Values {
        /** The low 64 bits of {@code register} of {@code cpu}. */
        long get(VcpuState cpu, String register);
    }

    private final ElfClass elfClass;
    private final List<Slot> slots;
    private final int pidOffset;
    private final int regOffset;
    private final int regSize;
    private final int size;

    private PrStatus(ElfClass elfClass, List<Slot> slots) {
        this.elfClass = elfClass;
        this.slots = List.copyOf(slots);
        boolean wide = elfClass == ElfClass.ELF64;
        this.pidOffset = wide ? PID_OFFSET_64 : PID_OFFSET_32;
        this.regOffset = wide ? REG_OFFSET_64 : REG_OFFSET_32;
        int bytes = 0;
        for (Slot s : this.slots) {
            bytes = Math.addExact(bytes, s.size());
        }
        this.regSize = bytes;
        int align = wide ? 8 : 4;
        int end = regOffset + regSize + FPVALID_SIZE;
        this.size = (end + align - 1) / align * align;
    }

    /** The frame of an architecture whose {@code long} has the width of {@code elfClass}. */
    public static PrStatus of(ElfClass elfClass, List<Slot> slots) {
        return new PrStatus(elfClass, slots);
    }

    /** A {@code pr_reg} of equal slots, one per name (null names: zero slots). */
    public static PrStatus uniform(ElfClass elfClass, int slotSize, List<String> registers) {
        List<Slot> slots = new ArrayList<>();
        for (String r : registers) {
            slots.add(r == null ? Slot.zero(slotSize) : Slot.of(r, slotSize));
        }
        return new PrStatus(elfClass, slots);
    }

    /** {@code sizeof(struct elf_prstatus)}. */
    public int size() {
        return size;
    }

    /** {@code pr_pid}. */
    public int pidOffset() {
        return pidOffset;
    }

    /** {@code pr_reg}. */
    public int regOffset() {
        return regOffset;
    }

    /** {@code sizeof(pr_reg)}. */
    public int regSize() {
        return regSize;
    }

    /** {@code pr_fpvalid}. */
    public int fpvalidOffset() {
        return regOffset + regSize;
    }

    /** The class whose word size this frame uses. */
    public ElfClass elfClass() {
        return elfClass;
    }

    /** The slots in struct order. */
    public List<Slot> slots() {
        return slots;
    }

    /** The absolute offset of the slot {@code register} fills. */
    public int offsetOf(String register) {
        int at = regOffset;
        for (Slot s : slots) {
            if (register.equals(s.register())) {
                return at;
            }
            at += s.size();
        }
        throw new IllegalArgumentException("no pr_reg slot for " + register);
    }

    /** Writes {@code pr_pid} and every slot into a zero-filled, {@link #size()}-byte, dump-ordered buffer. */
    public void write(VcpuState cpu, ByteBuffer out) {
        write(cpu, out, VcpuState::u64);
    }

    /** As {@link #write(VcpuState, ByteBuffer)}, reading register values through {@code values}. */
    public void write(VcpuState cpu, ByteBuffer out, Values values) {
        out.putInt(pidOffset, Math.addExact(cpu.index(), 1));
        int at = regOffset;
        for (Slot s : slots) {
            long v = s.register() == null ? 0 : values.get(cpu, s.register()) & s.mask();
            if (s.size() == 8) {
                out.putLong(at, v);
            } else {
                out.putInt(at, (int) v);
            }
            at += s.size();
        }
    }

    /** Writes {@code pr_fpvalid}: 1 where the vCPU's FP registers are in a note of their own (as QEMU writes it for some targets). */
    public void writeFpvalid(ByteBuffer out, boolean valid) {
        out.putInt(fpvalidOffset(), valid ? 1 : 0);
    }

    /** Reads every slot into {@code into} (unsigned, masked) and reports {@code pr_pid}. */
    public void read(ByteBuffer in, VcpuState.Builder into) {
        into.pid(in.getInt(pidOffset));
        int at = regOffset;
        for (Slot s : slots) {
            if (s.register() != null) {
                long v = s.size() == 8 ? in.getLong(at) : Integer.toUnsignedLong(in.getInt(at));
                into.set(s.register(), new BigInteger(Long.toUnsignedString(v & s.mask())));
            }
            at += s.size();
        }
    }

    /** A {@link CpuNote} row for this frame: {@code CORE NT_PRSTATUS} in {@code group}, writing and reading. */
    public CpuNote row(NoteGroup group, CpuNote.DescriptorWriter writer, CpuNote.DescriptorReader reader) {
        return new CpuNote("CORE", io.guestdump.elf.NoteType.NT_PRSTATUS, group, size, writer, reader);
    }

    /** The plain row: {@link #write(VcpuState, ByteBuffer)} and {@link #read}. */
    public CpuNote row() {
        return row(NoteGroup.ARCH, this::write, this::read);
    }
}
