package io.guestdump.arch.riscv64;

import io.guestdump.arch.api.ArchContext;
import io.guestdump.arch.api.ArchitectureSupport;
import io.guestdump.arch.api.CpuNote;
import io.guestdump.arch.api.DumpTarget;
import io.guestdump.arch.api.GuestState;
import io.guestdump.arch.api.GuestVmcoreinfo;
import io.guestdump.arch.api.MigrationDevice;
import io.guestdump.arch.api.PageTableWalker;
import io.guestdump.arch.api.RamBlockMapping;
import io.guestdump.arch.api.UnsupportedGuestException;
import io.guestdump.arch.api.VcpuState;
import io.guestdump.elf.ElfClass;
import io.guestdump.elf.ElfData;
import io.guestdump.memory.GuestBlock;
import java.math.BigInteger;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.pf4j.Extension;

/**
 * riscv64 guests, as QEMU 7.2's {@code target/riscv/arch_dump.c} dumps them: ELF64, {@code EM_RISCV}, 4 KiB pages,
 * one CORE {@code NT_PRSTATUS} of 376 bytes per vCPU ({@link Riscv64PrStatus}), no floating-point note and no
 * "QEMU" note (QEMU writes neither for riscv).
 *
 * <p>Byte order: little-endian unless the first vCPU's {@code mstatus.SBE} is set, which makes supervisor accesses,
 * the kernel's, big-endian. QEMU 7.2 looks at {@code mstatus.UBE} (user mode) instead; no Linux guest sets either.
 */
@Extension
public final class Riscv64Architecture implements ArchitectureSupport {
    /** The architecture id and guest machine name ({@code query-target}). */
    public static final String ID = "riscv64";
    /** {@code e_machine} for RISC-V (elf.h {@code EM_RISCV}). */
    public static final int EM_RISCV = 243;
    /** QEMU's {@code TARGET_PAGE_SIZE} for riscv, the kdump block size. */
    public static final long PAGE_SIZE = 4096;

    /**
     * Creates the plugin. The {@code guestdump.arch.riscv64} subtree has no settings: everything about a riscv64
     * dump is fixed by the architecture and the vCPU state.
     */
    public Riscv64Architecture(ArchContext ctx) {
        // nothing to read: see reference.conf
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
        return Set.of(EM_RISCV);
    }

    @Override
    public String elfMachineName(int machine) {
        return machine == EM_RISCV ? "EM_RISCV" : null;
    }

    /** {@code riscv64}, what {@code uname -m} prints (the default, {@link #machineFor}, says so already). */
    @Override
    public String utsMachine(DumpTarget target) {
        return ID;
    }

    /**
     * The kernel's {@code NUMBER(phys_ram_base)} (decimal, the start of DRAM), which is what makedumpfile writes as
     * {@code phys_base} for riscv64; without VMCOREINFO the start of the largest memory block, DRAM on every QEMU
     * board (the lowest block is a boot ROM on {@code virt}).
     */
    @Override
    public long physBase(DumpTarget target, GuestVmcoreinfo vmcoreinfo, List<GuestBlock> blocks) {
        return vmcoreinfo.number("phys_ram_base").orElseGet(() -> blocks.stream()
                .max((a, b) -> Long.compareUnsigned(a.range().length(), b.range().length()))
                .map(b -> b.range().start()).orElse(0L));
    }

    @Override
    public DumpTarget describe(GuestState guest) {
        if (!guest.machine().equals(ID)) {
            throw new UnsupportedGuestException("the riscv64 plugin dumps riscv64 guests, not '" + guest.machine()
                    + "'");
        }
        boolean bigEndian = (guest.firstCpu().u64("mstatus") & Riscv64Registers.MSTATUS_SBE) != 0;
        return new DumpTarget(EM_RISCV, ElfClass.ELF64, bigEndian ? ElfData.MSB : ElfData.LSB, PAGE_SIZE);
    }

    @Override
    public List<CpuNote> cpuNotes(GuestState guest, DumpTarget target) {
        return List.of(Riscv64PrStatus.FRAME.row());
    }

    @Override
    public List<VcpuState> parseMonitorRegisters(String text, String sourceName) {
        return Riscv64MonitorParser.parse(text, sourceName);
    }

    @Override
    public Set<String> registerNames(String machine) {
        return Riscv64Registers.all();
    }

    /** The one row writes and reads: notes are decoded by walking it ({@code decodeNotes}'s default). */
    @Override
    public List<CpuNote> readTable(DumpTarget target) {
        return List.of(Riscv64PrStatus.FRAME.row());
    }

    /** A big-endian file says the guest had {@code mstatus.SBE} set: kept, so that a re-dump stays big-endian. */
    @Override
    public VcpuState afterDecode(VcpuState cpu, DumpTarget target) {
        if (target.data() == ElfData.MSB) {
            return cpu.with(Map.of("mstatus", BigInteger.valueOf(Riscv64Registers.MSTATUS_SBE)));
        }
        return cpu;
    }

    /** Sv39, Sv48 and Sv57 from satp, else from VMCOREINFO's swapper_pg_dir. */
    @Override
    public Optional<PageTableWalker> pageTableWalker() {
        return Optional.of(new Riscv64PageTableWalker());
    }

    @Override
    public Set<String> migrationCpuSections() {
        return Set.of(Riscv64Migration.CPU_SECTION);
    }

    @Override
    public Optional<String> migrationMachine(String machineType, List<MigrationDevice> cpus) {
        return Riscv64Migration.machine(machineType, cpus);
    }

    @Override
    public List<RamBlockMapping> migrationRamLayout(String machineType, String machine, Map<String, Long> blocks) {
        return Riscv64Migration.layout(machineType, blocks);
    }

    /** pc, x1..x31, f0..f31 and the CSRs of the vCPU's {@code cpu} section ({@link Riscv64Migration}). */
    @Override
    public VcpuState decodeMigrationCpu(MigrationDevice cpu, String machine) {
        return Riscv64Migration.cpu(cpu);
    }
}
