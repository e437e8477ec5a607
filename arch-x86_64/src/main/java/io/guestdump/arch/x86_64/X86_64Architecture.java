package io.guestdump.arch.x86_64;

import io.guestdump.arch.api.ArchContext;
import io.guestdump.arch.api.ArchitectureSupport;
import io.guestdump.arch.api.CpuNote;
import io.guestdump.arch.api.DumpTarget;
import io.guestdump.arch.api.GuestState;
import io.guestdump.arch.api.GuestVmcoreinfo;
import io.guestdump.arch.api.MigrationDevice;
import io.guestdump.arch.api.PageTableWalker;
import io.guestdump.arch.api.RamBlockMapping;
import io.guestdump.arch.api.SampleGuest;
import io.guestdump.arch.api.VcpuState;
import io.guestdump.memory.GuestBlock;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.UnaryOperator;
import org.pf4j.Extension;

/**
 * qemu-system-x86_64 guests, as QEMU's {@code target/i386/arch_dump.c} dumps them. The first vCPU's
 * {@code EFER.LMA} decides everything: in long mode the dump is ELF64 {@code EM_X86_64} with the x86_64 prstatus;
 * otherwise it is {@code EM_386} with the i386 prstatus, ELF32 unless memory reaches 4 GiB. Every vCPU also gets a
 * {@code QEMU} note ({@link X86QemuCpuState}) unless {@code qemu-cpu-state-note = false}.
 */
@Extension
public final class X86_64Architecture implements ArchitectureSupport {
    /** The architecture id and config subtree name. */
    public static final String ID = "x86_64";

    private static final Set<String> REGISTER_NAMES = X86Registers.names(true);

    private static final PageTableWalker WALKER =
            new X86PageTableWalker(true, X86PageTableWalker.Fidelity.FIXED);

    private final X86Settings settings;

    /** Reads the settings from {@code guestdump.arch.x86_64}. */
    public X86_64Architecture(ArchContext ctx) {
        this.settings = X86Settings.from(ctx.config());
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
        return Set.of(X86Elf.EM_X86_64);
    }

    @Override
    public DumpTarget describe(GuestState guest) {
        return X86Registers.longModeActive(guest.firstCpu())
                ? X86DumpTargets.longMode()
                : X86DumpTargets.legacy(guest);
    }

    @Override
    public List<CpuNote> cpuNotes(GuestState guest, DumpTarget target) {
        return X86NoteTable.of(target, settings.qemuCpuStateNote(), UnaryOperator.identity());
    }

    @Override
    public List<VcpuState> parseMonitorRegisters(String text, String sourceName) {
        return X86MonitorParser.parse(text, sourceName, true);
    }

    @Override
    public Set<String> registerNames(String machine) {
        return REGISTER_NAMES;
    }

    /** {@link X86_64SampleGuest}: the sample guest {@code guestdump dump sample:} dumps. */
    @Override
    public Optional<SampleGuest> sampleGuest() {
        return Optional.of(new X86_64SampleGuest());
    }

    @Override
    public List<CpuNote> readTable(DumpTarget target) {
        return X86NoteTable.readTable();
    }

    @Override
    public VcpuState afterDecode(VcpuState cpu, DumpTarget target) {
        return X86NoteTable.afterDecode(cpu, target);
    }

    @Override
    public String elfMachineName(int machine) {
        return X86Elf.name(machine);
    }

    /** {@code x86_64}; {@code i686} for a guest outside long mode (an {@code EM_386} dump), as its kernel says. */
    @Override
    public String utsMachine(DumpTarget target) {
        return target.machine() == X86Elf.EM_386 ? "i686" : ID;
    }

    /**
     * {@code NUMBER(phys_base)}, which the kernel prints with {@code %ld}: decimal, negative when the kernel runs
     * below where it was linked (QEMU reads it as hex, which is wrong). 0 without it, and outside long mode.
     */
    @Override
    public long physBase(DumpTarget target, GuestVmcoreinfo vmcoreinfo, List<GuestBlock> blocks) {
        return target.machine() == X86Elf.EM_X86_64 ? vmcoreinfo.number("phys_base").orElse(0L) : 0L;
    }

    /**
     * {@code kernel_gs_base}, which {@code info registers -a} lacks: it normally comes from the probe dump's QEMU
     * notes; the gdbstub is asked only when the probe failed or is turned off.
     */
    @Override
    public Map<String, String> gdbstubRegisters(String machine) {
        return Map.of("k_gs_base", "kernel_gs_base");
    }

    /** 4-level and 5-level paging in long mode, PAE and 32-bit paging otherwise; see {@link X86PageTableWalker}. */
    @Override
    public Optional<PageTableWalker> pageTableWalker() {
        return Optional.of(WALKER);
    }

    @Override
    public Set<String> migrationCpuSections() {
        return X86Migration.sections();
    }

    @Override
    public Optional<String> migrationMachine(String machineType, List<MigrationDevice> cpus) {
        return X86Migration.machine(machineType, cpus, Long.BYTES, ID);
    }

    @Override
    public List<RamBlockMapping> migrationRamLayout(String machineType, String machine, Map<String, Long> blocks) {
        return X86Migration.layout(machineType, blocks);
    }

    @Override
    public VcpuState decodeMigrationCpu(MigrationDevice cpu, String machine) {
        return X86Migration.cpu(cpu, true);
    }
}
