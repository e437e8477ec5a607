package io.guestdump.arch.s390x;

import io.guestdump.arch.api.ArchContext;
import io.guestdump.arch.api.ArchitectureSupport;
import io.guestdump.arch.api.CpuNote;
import io.guestdump.arch.api.DumpTarget;
import io.guestdump.arch.api.GuestState;
import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.arch.api.MigrationDevice;
import io.guestdump.arch.api.MigrationInput;
import io.guestdump.arch.api.PageTableWalker;
import io.guestdump.arch.api.RamBlockMapping;
import io.guestdump.arch.api.VcpuState;
import io.guestdump.elf.ElfClass;
import io.guestdump.elf.ElfData;
import io.guestdump.elf.Note;
import java.math.BigInteger;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.pf4j.Extension;

/**
 * s390x (z/Architecture), following QEMU's {@code target/s390x/arch_dump.c}: always ELF64, big-endian,
 * {@code EM_S390}, 4 KiB pages; per vCPU the ten notes of {@link S390xNoteTable}.
 *
 * <p>Differences from QEMU 7.2, on purpose: {@code pr_pid} is written big-endian (QEMU 7.2 wrote it in host order,
 * fixed upstream in 2024 by commit 87c9d801a6), and {@code psw.mask} is written as given, with its condition code;
 * QEMU 7.2 under TCG writes {@code env->psw.mask}, whose condition-code bits are stale because TCG keeps the
 * condition code aside ({@code cc_op}).
 */
@Extension
public final class S390xArchitecture implements ArchitectureSupport {
    /** The architecture id. */
    public static final String ID = "s390x";
    /** QEMU's {@code TARGET_PAGE_SIZE} for s390x, the kdump block size. */
    public static final long PAGE_SIZE = 4096;

    private static final Set<String> REGISTER_NAMES =
            Collections.unmodifiableSet(new LinkedHashSet<>(S390xRegisters.names()));

    /**
     * Creates the plugin. The {@code guestdump.arch.s390x} subtree has no settings: everything about an s390x dump
     * is fixed by the architecture.
     */
    public S390xArchitecture(ArchContext ctx) {
        // nothing to read: see reference.conf
    }

    /** Walks DAT tables from the ASCE of the PSW's address space (CR1, CR7 or CR13). */
    @Override
    public Optional<PageTableWalker> pageTableWalker() {
        return Optional.of(new S390xPageTableWalker());
    }

    @Override
    public String id() {
        return ID;
    }

    @Override
    public Set<String> machines() {
        return Set.of(ID);
    }

    @Override
    public Set<Integer> elfMachines() {
        return Set.of(S390xElf.EM_S390);
    }

    /** Always ELF64, MSB, {@code EM_S390}, 4096-byte pages (QEMU {@code cpu_get_dump_info}). */
    @Override
    public String elfMachineName(int machine) {
        return machine == S390xElf.EM_S390 ? "EM_S390" : null;
    }

    /** {@code s390x}, as the kernel's {@code uname -m} says (QEMU writes {@code S390X}, which crash rejects). */
    @Override
    public String utsMachine(DumpTarget target) {
        return ID;
    }

    @Override
    public DumpTarget describe(GuestState guest) {
        return new DumpTarget(S390xElf.EM_S390, ElfClass.ELF64, ElfData.MSB, PAGE_SIZE);
    }

    /**
     * The ten notes per vCPU. Checks every vCPU first, so that nothing is written for a guest whose registers do
     * not fit their widths or whose {@code fN} disagrees with the leftmost doubleword of {@code vN}.
     */
    @Override
    public List<CpuNote> cpuNotes(GuestState guest, DumpTarget target) {
        if (target.data() != ElfData.MSB || target.elfClass() != ElfClass.ELF64) {
            throw new IllegalArgumentException("s390x notes are ELF64 big-endian; got " + target);
        }
        for (VcpuState cpu : guest.cpus()) {
            check(cpu);
        }
        return S390xNoteTable.cpuNotes();
    }

    @Override
    public List<VcpuState> parseMonitorRegisters(String text, String sourceName) {
        return S390xMonitorParser.parse(text, sourceName);
    }

    @Override
    public Set<String> registerNames(String machine) {
        return REGISTER_NAMES;
    }

    /**
     * The table the notes are written with. The vCPU index is the position of the vCPU's {@code NT_PRSTATUS} in
     * the file, not {@code pr_pid} (QEMU 7.2 byte-swapped it, older QEMUs wrote 0).
     */
    @Override
    public List<CpuNote> readTable(DumpTarget target) {
        return S390xNoteTable.cpuNotes();
    }

    /** Puts the registers in {@link S390xRegisters#names()} order, the order a snapshot and the monitor give. */
    @Override
    public VcpuState afterDecode(VcpuState cpu, DumpTarget target) {
        LinkedHashMap<String, BigInteger> ordered = new LinkedHashMap<>();
        for (String name : S390xRegisters.names()) {
            if (cpu.has(name)) {
                ordered.put(name, cpu.value(name));
            }
        }
        return new VcpuState(cpu.index(), ordered);
    }

    private static void check(VcpuState cpu) {
        for (Map.Entry<String, BigInteger> e : cpu.registers().entrySet()) {
            if (!REGISTER_NAMES.contains(e.getKey())) {
                continue; // unknown names are the framework's to refuse
            }
            int width = S390xRegisters.width(e.getKey());
            if (e.getValue().bitLength() > width) {
                throw new InvalidInputException("vCPU " + cpu.index() + ": " + e.getKey() + " = 0x"
                        + e.getValue().toString(16) + " does not fit its " + width + " bits; give at most "
                        + (width / 4) + " hex digits");
            }
        }
        for (int i = 0; i < S390xRegisters.COUNT_16; i++) {
            String f = S390xRegisters.fpr(i);
            String v = S390xRegisters.vr(i);
            if (cpu.has(f) && cpu.has(v)
                    && cpu.u64(f) != S390xRegisters.leftDoubleword(cpu.value(v))) {
                throw new InvalidInputException("vCPU " + cpu.index() + ": " + f + " = 0x"
                        + Long.toHexString(cpu.u64(f)) + " but the leftmost doubleword of " + v + " is 0x"
                        + Long.toHexString(S390xRegisters.leftDoubleword(cpu.value(v))) + "; on s390x " + f
                        + " is part of " + v + ", so give only one of them or make them agree");
            }
        }
    }

    @Override
    public Set<String> migrationCpuSections() {
        return Set.of(S390xMigration.CPU_SECTION);
    }

    @Override
    public Optional<String> migrationMachine(String machineType, List<MigrationDevice> cpus) {
        return S390xMigration.machine(machineType, cpus, ID);
    }

    @Override
    public List<RamBlockMapping> migrationRamLayout(String machineType, String machine, Map<String, Long> blocks) {
        return S390xMigration.layout(machineType, blocks);
    }

    @Override
    public VcpuState decodeMigrationCpu(MigrationDevice cpu, String machine) {
        return S390xMigration.cpu(cpu);
    }

    @Override
    public Set<String> migrationIterativeSections() {
        return Set.of(S390xMigration.STORAGE_ATTRIBUTES);
    }

    @Override
    public void skipMigrationSection(String idstr, MigrationInput in) {
        S390xMigration.skipStorageAttributes(in);
    }
}
