package io.guestdump.arch.ppc64;

import io.guestdump.arch.api.ArchContext;
import io.guestdump.arch.api.ArchitectureSupport;
import io.guestdump.arch.api.CpuNote;
import io.guestdump.arch.api.DumpTarget;
import io.guestdump.arch.api.GuestState;
import io.guestdump.arch.api.MigrationDevice;
import io.guestdump.arch.api.MigrationInput;
import io.guestdump.arch.api.NoteGroup;
import io.guestdump.arch.api.PageTableWalker;
import io.guestdump.arch.api.RamBlockMapping;
import io.guestdump.arch.api.VcpuState;
import io.guestdump.elf.ElfClass;
import io.guestdump.elf.ElfData;
import io.guestdump.elf.NoteType;
import java.math.BigInteger;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.pf4j.Extension;

/**
 * 64-bit PowerPC guests of {@code qemu-system-ppc64}, big- and little-endian, after QEMU's
 * {@code target/ppc/arch_dump.c}.
 *
 * <ul>
 *   <li>ELFCLASS64, EM_PPC64; byte order from the first vCPU's interrupt endianness
 *       ({@link Ppc64InterruptEndian}) unless {@code byte-order} forces one.</li>
 *   <li>Dump page size 65536 on {@code pseries*} machine types (the largest page a pseries kernel uses), else
 *       4096. The machine type is the guest property {@code machine-type}, else {@code default-machine-type}.</li>
 *   <li>Per vCPU: CORE NT_PRSTATUS 504, CORE NT_PRFPREG 264, then NT_PPC_VMX 544, NT_PPC_VSX 256 and
 *       NT_PPC_SPE 140 under {@code vector-note-owner} (LINUX by default; QEMU writes CORE).</li>
 * </ul>
 */
@Extension
public final class Ppc64Architecture implements ArchitectureSupport {
    /** The architecture id and QEMU's {@code query-target} name for both byte orders. */
    public static final String ID = "ppc64";
    /** Guest property naming QEMU's machine type, e.g. {@code pseries-7.2}. */
    public static final String MACHINE_TYPE_PROPERTY = "machine-type";
    /** Dump page size on pseries machines. */
    public static final long PSERIES_PAGE_SIZE = 65536;
    /** Dump page size elsewhere. */
    public static final long DEFAULT_PAGE_SIZE = 4096;

    private static final String CORE = "CORE";

    private final Ppc64Settings settings;

    /** Reads the settings of {@code guestdump.arch.ppc64}. */
    public Ppc64Architecture(ArchContext ctx) {
        this.settings = Ppc64Settings.from(ctx.config());
    }

    /** The settings in force. */
    public Ppc64Settings settings() {
        return settings;
    }

    /** Radix walks, or the kernel linear map where the guest uses the hash MMU (see {@link Ppc64PageTableWalker}). */
    @Override
    public Optional<PageTableWalker> pageTableWalker() {
        return Optional.of(new Ppc64PageTableWalker());
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
        return Set.of(Ppc64Elf.EM_PPC64);
    }

    @Override
    public String elfMachineName(int machine) {
        return machine == Ppc64Elf.EM_PPC64 ? "EM_PPC64" : null;
    }

    /** {@code ppc64le} or {@code ppc64} by the dump's byte order: libkdumpfile treats ppc64le as its own arch. */
    @Override
    public String utsMachine(DumpTarget target) {
        return target.data() == ElfData.LSB ? "ppc64le" : "ppc64";
    }

    @Override
    public DumpTarget describe(GuestState guest) {
        boolean pseries = isPseries(guest);
        ElfData data = switch (settings.byteOrder()) {
            case BIG -> ElfData.MSB;
            case LITTLE -> ElfData.LSB;
            case AUTO -> Ppc64InterruptEndian.littleEndian(guest.firstCpu(), pseries) ? ElfData.LSB : ElfData.MSB;
        };
        return new DumpTarget(Ppc64Elf.EM_PPC64, ElfClass.ELF64, data,
                pseries ? PSERIES_PAGE_SIZE : DEFAULT_PAGE_SIZE);
    }

    /** The machine type in force for this guest. */
    public String machineType(GuestState guest) {
        String type = guest.properties().get(MACHINE_TYPE_PROPERTY);
        return type == null || type.isBlank() ? settings.defaultMachineType() : type.strip();
    }

    private boolean isPseries(GuestState guest) {
        // QEMU compares the machine's QOM type name ("pseries-7.2-machine") with the prefix "pseries"
        return machineType(guest).startsWith("pseries");
    }

    /**
     * The five notes of each vCPU, written and read with the same rows. The vector notes are written under
     * {@code vector-note-owner} and read under either owner ({@code CORE} as QEMU writes them, {@code LINUX} as
     * Linux and binutils name them).
     */
    @Override
    public List<CpuNote> cpuNotes(GuestState guest, DumpTarget target) {
        return table(settings.vectorNoteOwner());
    }

    private static List<CpuNote> table(String vectorOwner) {
        return List.of(
                Ppc64PrStatus.FRAME.row(NoteGroup.ARCH, Ppc64PrStatus::write, Ppc64PrStatus::read),
                new CpuNote(CORE, NoteType.NT_PRFPREG, NoteGroup.ARCH, Ppc64FpRegSet.SIZE, Ppc64FpRegSet::write,
                        Ppc64FpRegSet::read),
                new CpuNote(vectorOwner, Ppc64Elf.NT_PPC_VMX, NoteGroup.ARCH, Ppc64VmxRegSet.SIZE,
                        Ppc64VmxRegSet::write, Ppc64VmxRegSet::read),
                new CpuNote(vectorOwner, Ppc64Elf.NT_PPC_VSX, NoteGroup.ARCH, Ppc64VsxRegSet.SIZE,
                        Ppc64VsxRegSet::write, Ppc64VsxRegSet::read),
                new CpuNote(vectorOwner, Ppc64Elf.NT_PPC_SPE, NoteGroup.ARCH, Ppc64SpeRegSet.SIZE,
                        Ppc64SpeRegSet::write, Ppc64SpeRegSet::read));
    }

    @Override
    public List<VcpuState> parseMonitorRegisters(String text, String sourceName) {
        return Ppc64MonitorParser.parse(text, sourceName);
    }

    @Override
    public Set<String> registerNames(String machine) {
        return Ppc64Registers.ALL;
    }

    /** The table the notes are written with (the owner of the vector notes does not matter for reading). */
    @Override
    public List<CpuNote> readTable(DumpTarget target) {
        return table(CORE);
    }

    /**
     * No note holds LPCR, so the decoded vCPU says nothing of its interrupt endianness, which decides the output's
     * byte order. A vCPU in privileged state (MSR[PR] = 0) runs the kernel, and Linux runs its kernel with
     * MSR[LE] equal to the interrupt endianness: take LPCR[ILE] from that. (QEMU 7.2 wrote big-endian dumps of
     * little-endian pseries guests; their MSR still says LE, so re-dumping them gives the right order.) A vCPU in
     * problem state says nothing; it is left as it is.
     */
    @Override
    public VcpuState afterDecode(VcpuState cpu, DumpTarget target) {
        if (cpu.has(Ppc64Registers.LPCR) || (cpu.u64(Ppc64Registers.MSR) & MSR_PR) != 0) {
            return cpu;
        }
        long ile = (cpu.u64(Ppc64Registers.MSR) & MSR_LE) != 0 ? Ppc64InterruptEndian.LPCR_ILE : 0;
        return cpu.with(Map.of(Ppc64Registers.LPCR, BigInteger.valueOf(ile)));
    }

    /** MSR[PR], problem (user) state. */
    static final long MSR_PR = 1L << 14;
    /** MSR[LE], little-endian execution. */
    static final long MSR_LE = 1L;

    @Override
    public Set<String> migrationCpuSections() {
        return Set.of(Ppc64Migration.CPU_SECTION);
    }

    @Override
    public Optional<String> migrationMachine(String machineType, List<MigrationDevice> cpus) {
        return Ppc64Migration.machine(machineType, cpus);
    }

    @Override
    public List<RamBlockMapping> migrationRamLayout(String machineType, String machine, Map<String, Long> blocks) {
        return Ppc64Migration.layout(machineType, blocks);
    }

    @Override
    public VcpuState decodeMigrationCpu(MigrationDevice cpu, String machine) {
        return Ppc64Migration.cpu(cpu);
    }

    @Override
    public Set<String> migrationIterativeSections() {
        return Set.of(Ppc64Migration.HTAB);
    }

    @Override
    public void skipMigrationSection(String idstr, MigrationInput in) {
        Ppc64Migration.skipHtab(in);
    }
}
