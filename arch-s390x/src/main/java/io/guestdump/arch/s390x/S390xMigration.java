package io.guestdump.arch.s390x;

import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.arch.api.MigrationDevice;
import io.guestdump.arch.api.MigrationInput;
import io.guestdump.arch.api.RamBlockMapping;
import io.guestdump.arch.api.UnsupportedGuestException;
import io.guestdump.arch.api.VcpuState;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * s390x guests of QEMU's {@code s390-ccw-virtio} board in a migration stream: {@code s390.ram} at 0, the
 * {@code cpu} section ({@code target/s390x/machine.c}: {@code env.regs}, {@code env.psw.mask}, {@code env.psw.addr},
 * {@code env.aregs}, {@code env.cregs}, {@code env.psa} (prefix), {@code env.cputm}, {@code env.ckc},
 * {@code env.todpr}, and in subsections {@code env.fpc}, {@code env.vregs[i][0]} (the leftmost doubleword, the FPR)
 * and {@code env.vregs[i][1]}), and the iterative {@code s390-storage_attributes} section, stepped over.
 */
final class S390xMigration {
    static final String CPU_SECTION = "cpu";
    static final String RAM = "s390.ram";
    /** {@code hw/s390x/s390-stattrib.c}'s iterative section. */
    static final String STORAGE_ATTRIBUTES = "s390-storage_attributes";
    private static final long STATTR_FLAG_EOS = 0x01;
    private static final long STATTR_FLAG_MORE = 0x02;
    private static final long STATTR_FLAG_DONE = 0x08;
    /** The flags sit below the 4 KiB target page. */
    private static final long STATTR_FLAG_MASK = 0xfff;

    private S390xMigration() {}

    static boolean ccw(String machineType) {
        return machineType.startsWith("s390-ccw-virtio");
    }

    static Optional<String> machine(String machineType, List<MigrationDevice> cpus, String name) {
        return ccw(machineType) && !cpus.isEmpty() && cpus.get(0).has("env.psw.mask") ? Optional.of(name)
                : Optional.empty();
    }

    static List<RamBlockMapping> layout(String machineType, Map<String, Long> blocks) {
        if (!ccw(machineType)) {
            throw new UnsupportedGuestException("machine type " + machineType + " is not s390-ccw-virtio");
        }
        Long ram = blocks.get(RAM);
        if (ram == null) {
            throw new InvalidInputException("migration stream of machine " + machineType + " has no " + RAM
                    + " RAMBlock (RAMBlocks: " + blocks.keySet() + ")");
        }
        return List.of(new RamBlockMapping(RAM, 0, 0, ram));
    }

    /** Storage-attribute records: (gfn | MORE) · u64 length · bytes, DONE, until EOS. */
    static void skipStorageAttributes(MigrationInput in) {
        while (true) {
            long at = in.position();
            long word = in.u64("a storage-attribute record");
            long flags = word & STATTR_FLAG_MASK;
            if (flags == STATTR_FLAG_EOS) {
                return;
            } else if (flags == STATTR_FLAG_MORE) {
                in.skip(in.u64("a storage-attribute length"), "storage attributes");
            } else if (flags != STATTR_FLAG_DONE) {
                throw new InvalidInputException("migration stream: storage-attribute record with flags 0x"
                        + Long.toHexString(flags) + " at byte " + at + "; QEMU writes 0x1, 0x2 and 0x8");
            }
        }
    }

    static VcpuState cpu(MigrationDevice cpu) {
        VcpuState.Builder b = VcpuState.builder(cpu.instanceId());
        b.set(S390xRegisters.PSW_MASK, cpu.unsigned("env.psw.mask"));
        b.set(S390xRegisters.PSW_ADDR, cpu.unsigned("env.psw.addr"));
        for (int i = 0; i < S390xRegisters.COUNT_16; i++) {
            b.set(S390xRegisters.gpr(i), cpu.element("env.regs", i, 8));
        }
        for (int i = 0; i < S390xRegisters.COUNT_16; i++) {
            b.set(S390xRegisters.acr(i), cpu.element("env.aregs", i, 4));
        }
        if (cpu.has("env.fpc")) {
            b.set(S390xRegisters.FPC, cpu.unsigned("env.fpc"));
        }
        for (int i = 0; i < S390xRegisters.VECTOR_COUNT; i++) {
            String left = "env.vregs[" + i + "][0]";
            String right = "env.vregs[" + i + "][1]";
            if (cpu.has(left) && i < S390xRegisters.COUNT_16) {
                b.set(S390xRegisters.fpr(i), cpu.unsigned(left));
            }
            if (cpu.has(left) && cpu.has(right)) {
                b.set(S390xRegisters.vr(i), S390xRegisters.vector(cpu.unsigned(left), cpu.unsigned(right)));
            }
        }
        for (int i = 0; i < S390xRegisters.COUNT_16; i++) {
            b.set(S390xRegisters.cr(i), cpu.element("env.cregs", i, 8));
        }
        b.set(S390xRegisters.PREFIX, cpu.unsigned("env.psa"));
        b.set(S390xRegisters.CPU_TIMER, cpu.unsigned("env.cputm"));
        b.set(S390xRegisters.CLOCK_COMPARATOR, cpu.unsigned("env.ckc"));
        b.set(S390xRegisters.TODPR, cpu.unsigned("env.todpr"));
        return b.build();
    }
}
