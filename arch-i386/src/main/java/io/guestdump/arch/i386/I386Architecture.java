package io.guestdump.arch.i386;

import io.guestdump.arch.x86_64.X86Elf;
import io.guestdump.arch.api.ArchContext;
import io.guestdump.arch.api.ArchitectureSupport;
import io.guestdump.arch.api.CpuNote;
import io.guestdump.arch.api.DumpTarget;
import io.guestdump.arch.api.GuestState;
import io.guestdump.arch.api.MigrationDevice;
import io.guestdump.arch.api.PageTableWalker;
import io.guestdump.arch.api.RamBlockMapping;
import io.guestdump.arch.api.VcpuState;
import io.guestdump.arch.x86_64.X86DumpTargets;
import io.guestdump.arch.x86_64.X86Migration;
import io.guestdump.arch.x86_64.X86MonitorParser;
import io.guestdump.arch.x86_64.X86NoteTable;
import io.guestdump.arch.x86_64.X86PageTableWalker;
import io.guestdump.arch.x86_64.X86Settings;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.pf4j.Extension;

/**
 * qemu-system-i386 guests, as QEMU's {@code target/i386/arch_dump.c} dumps them without {@code TARGET_X86_64}:
 * {@code EM_386}, ELF32 unless memory reaches 4 GiB (then ELF64, which every {@code -M pc} guest gets because
 * {@code pc.bios} ends at 4 GiB), the i386 prstatus, and the 440-byte {@code QEMU} note with r8…r15 and
 * {@code kernel_gs_base} zero. The layouts, parser and decoder are arch-x86_64's, reached through a PF4J plugin
 * dependency; this class only renames registers to the i386 names ({@link I386Registers}).
 */
@Extension
public final class I386Architecture implements ArchitectureSupport {
    /** The architecture id and config subtree name. */
    public static final String ID = "i386";

    private static final PageTableWalker WALKER =
            new X86PageTableWalker(false, X86PageTableWalker.Fidelity.FIXED);

    private final X86Settings settings;

    /** Reads the settings from {@code guestdump.arch.i386}. */
    public I386Architecture(ArchContext ctx) {
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
        return Set.of(X86Elf.EM_386);
    }

    @Override
    public DumpTarget describe(GuestState guest) {
        guest.firstCpu(); // no vCPU: the same UnsupportedGuestException as on every architecture
        return X86DumpTargets.legacy(guest);
    }

    @Override
    public List<CpuNote> cpuNotes(GuestState guest, DumpTarget target) {
        return X86NoteTable.of(target, settings.qemuCpuStateNote(), I386Registers::toCanonical);
    }

    @Override
    public List<VcpuState> parseMonitorRegisters(String text, String sourceName) {
        return X86MonitorParser.parse(text, sourceName, false).stream().map(I386Registers::fromCanonical).toList();
    }

    @Override
    public Set<String> registerNames(String machine) {
        return I386Registers.NAMES;
    }

    @Override
    public List<CpuNote> readTable(DumpTarget target) {
        return X86NoteTable.readTable();
    }

    /** The x86 fix-up, then the i386 names. */
    @Override
    public VcpuState afterDecode(VcpuState cpu, DumpTarget target) {
        return I386Registers.fromCanonical(X86NoteTable.afterDecode(cpu, target));
    }

    @Override
    public String elfMachineName(int machine) {
        return X86Elf.name(machine);
    }

    /** {@code i686}, what an i386 kernel's {@code uname -m} says and crash expects. */
    @Override
    public String utsMachine(DumpTarget target) {
        return "i686";
    }

    /** PAE and 32-bit paging (qemu-system-i386 has no long mode); see {@link X86PageTableWalker}. */
    @Override
    public Optional<PageTableWalker> pageTableWalker() {
        return Optional.of(WALKER);
    }

    /** The i386 kernel's {@code unsigned long} is 4 bytes, also when the dump is ELF64 (RAM above 4 GiB). */
    @Override
    public int kernelWordSize(GuestState guest, DumpTarget target) {
        return 4;
    }

    @Override
    public Set<String> migrationCpuSections() {
        return X86Migration.sections();
    }

    /** qemu-system-i386 streams: a PC board whose vCPUs have 4-byte {@code target_ulong}s. */
    @Override
    public Optional<String> migrationMachine(String machineType, List<MigrationDevice> cpus) {
        return X86Migration.machine(machineType, cpus, Integer.BYTES, ID);
    }

    @Override
    public List<RamBlockMapping> migrationRamLayout(String machineType, String machine, Map<String, Long> blocks) {
        return X86Migration.layout(machineType, blocks);
    }

    @Override
    public VcpuState decodeMigrationCpu(MigrationDevice cpu, String machine) {
        return I386Registers.fromCanonical(X86Migration.cpu(cpu, false));
    }
}
