package io.guestdump.arch.x86_64;

import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.arch.api.VcpuState;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * QEMU's {@code QEMUCPUState}, the descriptor of the {@code "QEMU"} note (type 0) every x86 dump carries per vCPU,
 * version 1:
 *
 * <pre>
 *   offset size
 *        0    4  version                    (1)
 *        4    4  size                       (440; 432 in dumps written before 2018)
 *        8   64  rax rbx rcx rdx rsi rdi rsp rbp     8 × u64
 *       72   64  r8 … r15                            8 × u64 (0 on qemu-system-i386)
 *      136    8  rip
 *      144    8  rflags
 *      152  240  cs ds es fs gs ss ldt tr gdt idt   10 × QEMUCPUSegment:
 *                  +0 selector u32, +4 limit u32, +8 flags u32, +12 pad u32 (0), +16 base u64  = 24 bytes
 *      392   40  cr[0..4]                            5 × u64 (cr1 = 0)
 *      432    8  kernel_gs_base                      (0 on qemu-system-i386)
 *                = 440 bytes
 * </pre>
 *
 * <p>{@code gdt} and {@code idt} use only {@code limit} and {@code base}; their selector and flags are 0.
 * Readers must trust the {@code size} field, not the version: {@code kernel_gs_base} was appended without a
 * version bump.
 */
public final class X86QemuCpuState {
    /** {@code QEMUCPUSTATE_VERSION}. */
    public static final int VERSION = 1;
    /** {@code sizeof(QEMUCPUState)} today. */
    public static final int SIZE = 440;
    /** The size before {@code kernel_gs_base} was appended. */
    public static final int SIZE_WITHOUT_KERNEL_GS_BASE = 432;

    /** {@code version}. */
    public static final int VERSION_OFFSET = 0;
    /** {@code size}. */
    public static final int SIZE_OFFSET = 4;
    /** {@code rax}, first of the general-purpose registers. */
    public static final int GPRS_OFFSET = 8;
    /** {@code rip}. */
    public static final int RIP_OFFSET = 136;
    /** {@code rflags}. */
    public static final int RFLAGS_OFFSET = 144;
    /** {@code cs}, first of the segments. */
    public static final int SEGMENTS_OFFSET = 152;
    /** {@code cr[0]}. */
    public static final int CR_OFFSET = 392;
    /** {@code kernel_gs_base}. */
    public static final int KERNEL_GS_BASE_OFFSET = 432;

    /** {@code QEMUCPUSegment.selector} within a segment. */
    public static final int SEGMENT_SELECTOR = 0;
    /** {@code QEMUCPUSegment.limit}. */
    public static final int SEGMENT_LIMIT = 4;
    /** {@code QEMUCPUSegment.flags}. */
    public static final int SEGMENT_FLAGS = 8;
    /** {@code QEMUCPUSegment.pad}. */
    public static final int SEGMENT_PAD = 12;
    /** {@code QEMUCPUSegment.base}. */
    public static final int SEGMENT_BASE = 16;
    /** {@code sizeof(QEMUCPUSegment)}. */
    public static final int SEGMENT_SIZE = 24;

    /** The 16 general-purpose slots in struct order (not {@code user_regs_struct} order). */
    public static final List<String> GPRS = List.of(
            "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rsp", "rbp",
            "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15");

    /** The segments in struct order. */
    public static final List<String> SEGMENTS = List.of("cs", "ds", "es", "fs", "gs", "ss", "ldt", "tr", "gdt", "idt");

    /** The descriptor tables, which carry only base and limit. */
    public static final List<String> TABLES = List.of("gdt", "idt");

    /** {@code cr[0..4]} by index; {@code cr1} is reserved and written 0. */
    public static final List<String> CONTROL = List.of("cr0", "cr1", "cr2", "cr3", "cr4");

    private static final String RESERVED_CR = "cr1";

    private X86QemuCpuState() {}

    /** The absolute offset of a segment's field, e.g. {@code segmentOffset("tr", SEGMENT_BASE)}. */
    public static int segmentOffset(String segment, int field) {
        int i = SEGMENTS.indexOf(segment);
        if (i < 0) {
            throw new IllegalArgumentException("no QEMUCPUSegment named " + segment);
        }
        return SEGMENTS_OFFSET + i * SEGMENT_SIZE + field;
    }

    /** Fills a zeroed, {@link #SIZE}-byte, dump-ordered descriptor from canonical registers. */
    public static void write(VcpuState cpu, ByteBuffer out) {
        out.putInt(VERSION_OFFSET, VERSION);
        out.putInt(SIZE_OFFSET, SIZE);
        for (int i = 0; i < GPRS.size(); i++) {
            out.putLong(GPRS_OFFSET + i * 8, X86Registers.u64(cpu, GPRS.get(i)));
        }
        out.putLong(RIP_OFFSET, X86Registers.u64(cpu, X86Registers.RIP));
        out.putLong(RFLAGS_OFFSET, X86Registers.u64(cpu, X86Registers.RFLAGS));
        for (String seg : SEGMENTS) {
            boolean table = TABLES.contains(seg);
            out.putInt(segmentOffset(seg, SEGMENT_SELECTOR), table ? 0 : X86Registers.u32(cpu, seg + ".selector"));
            out.putInt(segmentOffset(seg, SEGMENT_LIMIT), X86Registers.u32(cpu, seg + ".limit"));
            out.putInt(segmentOffset(seg, SEGMENT_FLAGS), table ? 0 : X86Registers.u32(cpu, seg + ".flags"));
            out.putLong(segmentOffset(seg, SEGMENT_BASE), X86Registers.u64(cpu, seg + ".base"));
        }
        for (int i = 0; i < CONTROL.size(); i++) {
            String cr = CONTROL.get(i);
            out.putLong(CR_OFFSET + i * 8, cr.equals(RESERVED_CR) ? 0 : X86Registers.u64(cpu, cr));
        }
        out.putLong(KERNEL_GS_BASE_OFFSET, X86Registers.u64(cpu, X86Registers.KERNEL_GS_BASE));
    }

    /**
     * Reads a descriptor into {@code into}: every register it holds, {@code kernel_gs_base} only when the size
     * field says it is there.
     *
     * @param what names the note for messages, e.g. "QEMU note 3"
     */
    public static void read(ByteBuffer in, VcpuState.Builder into, String what) {
        int length = in.capacity();
        if (length < SIZE_WITHOUT_KERNEL_GS_BASE) {
            throw new InvalidInputException(what + " is " + length + " bytes; a QEMUCPUState needs at least "
                    + SIZE_WITHOUT_KERNEL_GS_BASE + ". The vmcore is truncated or not an x86 QEMU dump.");
        }
        int version = in.getInt(VERSION_OFFSET);
        long size = Integer.toUnsignedLong(in.getInt(SIZE_OFFSET));
        if (version != VERSION) {
            throw new InvalidInputException(what + " has QEMUCPUState version " + Integer.toUnsignedString(version)
                    + "; only version " + VERSION + " is known. Disable reading it or upgrade guestdump.");
        }
        if (size < SIZE_WITHOUT_KERNEL_GS_BASE || size > length) {
            throw new InvalidInputException(what + " says its QEMUCPUState is " + size + " bytes but the note holds "
                    + length + " (expected " + SIZE_WITHOUT_KERNEL_GS_BASE + " or " + SIZE + ").");
        }
        for (int i = 0; i < GPRS.size(); i++) {
            into.set(GPRS.get(i), in.getLong(GPRS_OFFSET + i * 8));
        }
        into.set(X86Registers.RIP, in.getLong(RIP_OFFSET));
        into.set(X86Registers.RFLAGS, in.getLong(RFLAGS_OFFSET));
        for (String seg : SEGMENTS) {
            boolean table = TABLES.contains(seg);
            if (!table) {
                into.set(seg + ".selector", Integer.toUnsignedLong(in.getInt(segmentOffset(seg, SEGMENT_SELECTOR))));
            }
            into.set(seg + ".base", in.getLong(segmentOffset(seg, SEGMENT_BASE)));
            into.set(seg + ".limit", Integer.toUnsignedLong(in.getInt(segmentOffset(seg, SEGMENT_LIMIT))));
            if (!table) {
                into.set(seg + ".flags", Integer.toUnsignedLong(in.getInt(segmentOffset(seg, SEGMENT_FLAGS))));
            }
        }
        for (int i = 0; i < CONTROL.size(); i++) {
            String cr = CONTROL.get(i);
            if (!cr.equals(RESERVED_CR)) {
                into.set(cr, in.getLong(CR_OFFSET + i * 8));
            }
        }
        if (size >= SIZE) {
            into.set(X86Registers.KERNEL_GS_BASE, in.getLong(KERNEL_GS_BASE_OFFSET));
        }
    }
}
