package io.guestdump.arch.arm;

import io.guestdump.arch.api.ArchContext;
import io.guestdump.arch.api.ArchitectureSupport;
import io.guestdump.arch.api.CpuNote;
import io.guestdump.arch.api.DumpTarget;
import io.guestdump.arch.api.GuestState;
import io.guestdump.arch.api.GuestVmcoreinfo;
import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.arch.api.MigrationDevice;
import io.guestdump.arch.api.NoteGroup;
import io.guestdump.arch.api.NoteTableReader;
import io.guestdump.arch.api.PageTableWalker;
import io.guestdump.arch.api.RamBlockMapping;
import io.guestdump.arch.api.UnsupportedGuestException;
import io.guestdump.arch.api.VcpuState;
import io.guestdump.elf.ElfClass;
import io.guestdump.elf.ElfData;
import io.guestdump.elf.Note;
import io.guestdump.elf.NoteType;
import io.guestdump.memory.GuestBlock;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.pf4j.Extension;

/**
 * ARM guests, as QEMU's {@code target/arm/arch_dump.c} dumps them:
 *
 * <table>
 *   <caption>Dump target and notes per vCPU</caption>
 *   <tr><th>machine</th><th>e_machine</th><th>class</th><th>byte order</th><th>page</th><th>notes per vCPU</th></tr>
 *   <tr><td>aarch64</td><td>EM_AARCH64</td><td>ELF64</td><td>SCTLR_EL1.EE of vCPU 0</td>
 *       <td>VMCOREINFO PAGESIZE, else {@code aarch64-default-page-size}</td>
 *       <td>CORE NT_PRSTATUS 392, CORE NT_PRFPREG 528, LINUX NT_ARM_SVE (SVE vCPUs only)</td></tr>
 *   <tr><td>arm</td><td>EM_ARM</td><td>ELF32 (RAM above 4 GiB refused)</td><td>SCTLR.EE of vCPU 0</td>
 *       <td>4096</td><td>CORE NT_PRSTATUS 148, LINUX NT_ARM_VFP 260 (VFP vCPUs only)</td></tr>
 * </table>
 */
@Extension
public final class ArmArchitecture implements ArchitectureSupport {
    /** The 64-bit guest machine name. */
    public static final String MACHINE_AARCH64 = "aarch64";
    /** The 32-bit guest machine name. */
    public static final String MACHINE_ARM = "arm";
    /** QEMU's dump page size for 32-bit ARM ({@code 1 << 12}). */
    public static final long ARM_PAGE_SIZE = 4096;
    /** The first address an ELF32 {@code p_paddr} cannot hold. */
    private static final long FOUR_GIB = 0x1_0000_0000L;

    private static final Set<String> MACHINES = new LinkedHashSet<>(List.of(MACHINE_AARCH64, MACHINE_ARM));

    private final long aarch64DefaultPageSize;

    /** Reads {@code guestdump.arch.arm.aarch64-default-page-size}. */
    public ArmArchitecture(ArchContext ctx) {
        long size = ctx.config().getBytes("aarch64-default-page-size");
        if (size <= 0 || Long.bitCount(size) != 1) {
            throw new InvalidInputException("guestdump.arch.arm.aarch64-default-page-size = " + size
                    + " is not a power of two; use 4096, 16384 or 65536 (QEMU's choice)");
        }
        this.aarch64DefaultPageSize = size;
    }

    /**
     * Walks the guest's own translation tables: AArch64 (TTBR0/TTBR1, 4/16/64 KiB granules, 39 to 52-bit VAs) or
     * 32-bit ARM (short descriptors and LPAE), falling back to VMCOREINFO's {@code swapper_pg_dir} when the vCPU
     * state lacks the translation registers (as QEMU's monitor text does).
     */
    @Override
    public Optional<PageTableWalker> pageTableWalker() {
        return Optional.of(new ArmPageTableWalker());
    }

    @Override
    public String id() {
        return "arm";
    }

    @Override
    public Set<String> machines() {
        return MACHINES;
    }

    @Override
    public Set<Integer> elfMachines() {
        return Set.of(ArmElf.EM_AARCH64, ArmElf.EM_ARM);
    }

    @Override
    public String elfMachineName(int machine) {
        return ArmElf.name(machine);
    }

    /**
     * {@code NUMBER(PHYS_OFFSET)} (arm64 prints it {@code 0x%llx}); without it the lowest guest-physical address,
     * QEMU's guess and crash's.
     */
    @Override
    public long physBase(DumpTarget target, GuestVmcoreinfo vmcoreinfo, List<GuestBlock> blocks) {
        return vmcoreinfo.number("PHYS_OFFSET").orElseGet(() -> lowest(blocks));
    }

    private static long lowest(List<GuestBlock> blocks) {
        long min = -1L;
        for (GuestBlock b : blocks) {
            if (Long.compareUnsigned(b.range().start(), min) < 0) {
                min = b.range().start();
            }
        }
        return blocks.isEmpty() ? 0 : min;
    }

    /**
     * AArch64: the page-table walker (--paging) needs SCTLR_EL1 (QEMU 7.2's gdbstub calls it SCTLR), TCR_EL1 and
     * the TTBRs, which {@code info registers -a} lacks; without them it falls back to VMCOREINFO (the kernel half).
     */
    @Override
    public Map<String, String> gdbstubRegisters(String machine) {
        return MACHINE_AARCH64.equals(machine)
                ? Map.of("SCTLR", "sctlr_el1", "TCR_EL1", "tcr_el1", "TTBR0_EL1", "ttbr0_el1",
                        "TTBR1_EL1", "ttbr1_el1")
                : Map.of();
    }

    @Override
    public String machineFor(DumpTarget target) {
        return switch (target.machine()) {
            case ArmElf.EM_AARCH64 -> MACHINE_AARCH64;
            case ArmElf.EM_ARM -> MACHINE_ARM;
            default -> throw new IllegalArgumentException("not an ARM vmcore: " + ArmElf.describe(target.machine()));
        };
    }

    @Override
    public DumpTarget describe(GuestState guest) {
        VcpuState first = guest.firstCpu();
        return switch (guest.machine()) {
            case MACHINE_AARCH64 -> {
                // QEMU: the EL1 endianness; a vCPU in AArch32 state may give its AArch32 name sctlr instead
                long sctlr = first.has("sctlr_el1") ? first.u64("sctlr_el1") : first.u64("sctlr");
                yield new DumpTarget(ArmElf.EM_AARCH64, ElfClass.ELF64, byteOrder(sctlr), aarch64PageSize(guest));
            }
            case MACHINE_ARM -> {
                refuseMemoryAbove4GiB(guest);
                yield new DumpTarget(ArmElf.EM_ARM, ElfClass.ELF32, byteOrder(first.u64("sctlr")), ARM_PAGE_SIZE);
            }
            default -> throw new UnsupportedGuestException("the arm plugin dumps aarch64 and arm guests, not '"
                    + guest.machine() + "'");
        };
    }

    private static ElfData byteOrder(long sctlr) {
        return ((sctlr >>> Registers.SCTLR_EE_BIT) & 1) != 0 ? ElfData.MSB : ElfData.LSB;
    }

    /** The guest kernel's page size from VMCOREINFO, else the configured default (QEMU always uses 64 KiB). */
    private long aarch64PageSize(GuestState guest) {
        Optional<String> text = GuestVmcoreinfo.of(guest).flatMap(v -> v.get("PAGESIZE"));
        if (text.isEmpty()) {
            return aarch64DefaultPageSize;
        }
        long size;
        try {
            size = GuestVmcoreinfo.parseNumber("PAGESIZE", text.get());
        } catch (InvalidInputException e) {
            size = -1;
        }
        if (size <= 0 || Long.bitCount(size) != 1) {
            throw new InvalidInputException("VMCOREINFO has PAGESIZE=" + text.get() + ", which is not a power of"
                    + " two; the guest's VMCOREINFO is damaged: correct it, or remove the PAGESIZE line to"
                    + " use guestdump.arch.arm.aarch64-default-page-size");
        }
        return size;
    }

    /**
     * Refuses a guest with a byte at or above 4 GiB. Unlike {@link GuestState#hasMemoryAbove4GiB()} (QEMU's x86
     * class rule, which counts a block ending exactly at 4 GiB), a block whose last byte is 0xffffffff still fits
     * ELF32: only its start and length are written.
     */
    private static void refuseMemoryAbove4GiB(GuestState guest) {
        Optional<GuestBlock> high = guest.memory().blocks().stream()
                .filter(b -> Long.compareUnsigned(b.range().end(), FOUR_GIB) > 0)
                .findFirst();
        if (high.isEmpty()) {
            return;
        }
        GuestBlock block = high.get();
        throw new UnsupportedGuestException("32-bit ARM guest has memory block " + block.name() + " "
                + block.range() + " reaching above 4 GiB, but an EM_ARM vmcore is ELFCLASS32, whose p_paddr field"
                + " holds 32 bits: the block cannot be described (QEMU 7.2 writes it with its address silently"
                + " truncated). The check looks at the whole guest, as QEMU decides the ELF class before any"
                + " --begin/--length filter, so a filter does not avoid it. Run the guest with all RAM below 4 GiB"
                + " (e.g. at most -m 3G on -M virt, or without highmem), or read the high memory with a raw"
                + " memory tool such as QMP pmemsave.");
    }

    @Override
    public List<CpuNote> cpuNotes(GuestState guest, DumpTarget target) {
        return switch (guest.machine()) {
            case MACHINE_AARCH64 -> aarch64Notes(guest);
            case MACHINE_ARM -> armNotes(guest);
            default -> throw new UnsupportedGuestException("the arm plugin dumps aarch64 and arm guests, not '"
                    + guest.machine() + "'");
        };
    }

    private static List<CpuNote> aarch64Notes(GuestState guest) {
        List<CpuNote> table = new ArrayList<>();
        table.add(AARCH64_PRSTATUS);
        table.add(AARCH64_FPSIMD);
        Optional<SveConfig> sve = SveConfig.ofGuest(guest.cpus());
        sve.ifPresent(s -> table.add(sveRow(Aarch64SveState.size(s.vq()),
                (cpu, out) -> Aarch64SveState.write(cpu, s.vq(), s.maxVq(), out))));
        return List.copyOf(table);
    }

    private static List<CpuNote> armNotes(GuestState guest) {
        // QEMU decides VFP per CPU model; all vCPUs share it, so the first decides, as in cpu_get_note_size
        boolean vfp = ArmVfpState.hasVfp(guest.firstCpu());
        List<CpuNote> table = new ArrayList<>();
        table.add(armPrstatus(vfp));
        if (vfp) {
            table.add(ARM_VFP);
        }
        return List.copyOf(table);
    }

    private static final CpuNote AARCH64_PRSTATUS = Aarch64PrStatus.FRAME.row(NoteGroup.ARCH,
            Aarch64PrStatus::write, Aarch64PrStatus::read);
    private static final CpuNote AARCH64_FPSIMD = new CpuNote("CORE", NoteType.NT_PRFPREG, NoteGroup.ARCH,
            Aarch64FpsimdState.SIZE, Aarch64FpsimdState::write, (in, into) -> Aarch64FpsimdState.read(in)
                    .forEach(into::set));
    private static final CpuNote ARM_VFP = new CpuNote("LINUX", ArmElf.NT_ARM_VFP, NoteGroup.ARCH, ArmVfpState.SIZE,
            ArmVfpState::write, (in, into) -> ArmVfpState.read(in).forEach(into::set));

    private static CpuNote armPrstatus(boolean vfp) {
        return ArmPrStatus.FRAME.row(NoteGroup.ARCH, (cpu, out) -> ArmPrStatus.write(cpu, vfp, out),
                ArmPrStatus::read);
    }

    private static CpuNote sveRow(int size, CpuNote.DescriptorWriter writer) {
        return new CpuNote("LINUX", ArmElf.NT_ARM_SVE, NoteGroup.ARCH, size, writer,
                (in, into) -> Aarch64SveState.read(in, "LINUX NT_ARM_SVE note").forEach(into::set));
    }

    /**
     * {@inheritDoc}
     *
     * <p>The text itself says which form each vCPU is in: AArch64 ({@code PC=}, {@code Xnn=}) or AArch32
     * ({@code Rnn=}, {@code PSR=}). AArch32 text fits both machines: a vCPU of an aarch64 guest in AArch32 state
     * prints exactly like a 32-bit guest's vCPU, so the guest's machine decides what the registers mean.
     */
    @Override
    public List<VcpuState> parseMonitorRegisters(String text, String sourceName) {
        return ArmMonitorParser.parse(text, sourceName);
    }

    @Override
    public Set<String> registerNames(String machine) {
        return Registers.names(machine);
    }

    /**
     * The notes read back: aarch64 prstatus, FPSIMD and SVE (whose size follows the vector length, so the row
     * takes the size the file's first SVE note has); arm prstatus and VFP.
     */
    @Override
    public List<VcpuState> decodeNotes(List<Note> notes, DumpTarget target) {
        List<CpuNote> table = switch (target.machine()) {
            case ArmElf.EM_AARCH64 -> {
                List<CpuNote> t = new ArrayList<>(List.of(AARCH64_PRSTATUS, AARCH64_FPSIMD));
                notes.stream().filter(n -> n.owner().equals("LINUX") && n.type() == ArmElf.NT_ARM_SVE).findFirst()
                        .ifPresent(n -> t.add(sveRow(n.descSize(), (cpu, out) -> { })));
                yield t;
            }
            case ArmElf.EM_ARM -> List.of(armPrstatus(true), ARM_VFP);
            default -> throw new IllegalArgumentException("not an ARM vmcore: " + ArmElf.describe(target.machine()));
        };
        return NoteTableReader.read(table, notes, target, machineFor(target)).stream()
                .map(c -> afterDecode(c, target)).toList();
    }

    /** A big-endian dump was written because SCTLR.EE was set: keep that, so a re-dump stays big-endian. */
    @Override
    public VcpuState afterDecode(VcpuState cpu, DumpTarget target) {
        if (target.data() != ElfData.MSB) {
            return cpu;
        }
        String sctlr = target.machine() == ArmElf.EM_AARCH64 ? "sctlr_el1" : "sctlr";
        return cpu.with(Map.of(sctlr, BigInteger.ONE.shiftLeft(Registers.SCTLR_EE_BIT)));
    }

    @Override
    public Set<String> migrationCpuSections() {
        return Set.of(ArmMigration.CPU_SECTION);
    }

    @Override
    public Optional<String> migrationMachine(String machineType, List<MigrationDevice> cpus) {
        return ArmMigration.machine(machineType, cpus);
    }

    @Override
    public List<RamBlockMapping> migrationRamLayout(String machineType, String machine, Map<String, Long> blocks) {
        return ArmMigration.layout(machineType, blocks);
    }

    @Override
    public VcpuState decodeMigrationCpu(MigrationDevice cpu, String machine) {
        return ArmMigration.cpu(cpu, machine);
    }
}
