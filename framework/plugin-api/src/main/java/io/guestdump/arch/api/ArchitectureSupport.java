package io.guestdump.arch.api;

import io.guestdump.elf.Note;
import io.guestdump.memory.GuestBlock;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.pf4j.ExtensionPoint;

/**
 * What one target architecture supplies to the framework: QEMU's {@code ArchDumpInfo} decided per guest, the
 * per-CPU note table, the parser of QEMU's {@code info registers -a} text, the decoder of its notes, and
 * optionally a page-table walker.
 *
 * <p>An implementation is a PF4J {@code @Extension}. It may declare a public constructor taking an
 * {@link ArchContext}, through which it receives its configuration subtree ({@code guestdump.arch.<id>}).
 */
public interface ArchitectureSupport extends ExtensionPoint {

    /** The architecture id, also the name of its config subtree and file, e.g. {@code "foo64"}. */
    String id();

    /**
     * The guest architecture names served, as QEMU's {@code query-target} reports them and as a snapshot's
     * {@code guest.arch} names them, e.g. {@code ["foo64", "foo64el"]}.
     */
    Set<String> machines();

    /** The {@code e_machine} values whose vmcores this plugin can read back. */
    Set<Integer> elfMachines();

    /** Decides ELF class, byte order, {@code e_machine} and page size for this guest. */
    DumpTarget describe(GuestState guest);

    /**
     * The per-CPU notes, in the order they are written for one CPU. The framework writes every vCPU's
     * {@link NoteGroup#ARCH} notes, then every vCPU's {@link NoteGroup#QEMU} notes, then the guest's VMCOREINFO.
     * It sizes the PT_NOTE segment from this table and pads each note; plugins never do.
     */
    List<CpuNote> cpuNotes(GuestState guest, DumpTarget target);

    /**
     * Parses QEMU's HMP {@code info registers -a} output into one state per vCPU, in vCPU order.
     *
     * @param text       the monitor text
     * @param sourceName the file it came from, for messages
     * @throws InvalidInputException naming the line and what is wrong
     */
    List<VcpuState> parseMonitorRegisters(String text, String sourceName);

    /**
     * The register names a snapshot may set for a vCPU of this guest architecture; anything else is refused as
     * unknown. Segment-like registers use dotted names ({@code cs.selector}).
     */
    Set<String> registerNames(String machine);

    /**
     * Decodes the CPU notes of a vmcore this plugin wrote (or QEMU did) back into vCPU states, in vCPU order.
     * {@code notes} holds every note of the file except the guest's VMCOREINFO, in file order.
     *
     * <p>The default walks {@link #readTable(DumpTarget)} with {@link NoteTableReader} (the same rows that write
     * the notes) and then applies {@link #afterDecode} to each vCPU; plugins normally override only those two.
     */
    default List<VcpuState> decodeNotes(List<Note> notes, DumpTarget target) {
        List<CpuNote> table = readTable(target);
        if (table.isEmpty()) {
            throw new UnsupportedGuestException("the " + id() + " plugin cannot read CPU notes back (it declares no "
                    + "note table to read with); dump from a snapshot or a live guest instead");
        }
        return NoteTableReader.read(table, notes, target, id()).stream().map(c -> afterDecode(c, target)).toList();
    }

    /**
     * Every note row a vmcore of {@code target} may hold, with readers, in the order one vCPU's notes are written
     * (its first row, the prstatus, starts each vCPU). Usually {@link #cpuNotes} of any guest of that target, plus
     * the rows of variants it does not write (another prstatus layout, an optional QEMU note). Empty (the default):
     * the plugin overrides {@link #decodeNotes} itself.
     */
    default List<CpuNote> readTable(DumpTarget target) {
        return List.of();
    }

    /**
     * The per-architecture fix-up after a vCPU's notes are read, for state no note holds but the notes imply (the
     * byte order the dump was written in says which endianness the vCPU ran in; a prstatus layout says which mode).
     * The default returns the state unchanged.
     */
    default VcpuState afterDecode(VcpuState cpu, DumpTarget target) {
        return cpu;
    }

    /** The machine name a guest of this target would carry, given its decoded vmcore header. */
    default String machineFor(DumpTarget target) {
        return machines().iterator().next();
    }

    /** The page-table walker, where this architecture has one. */
    default Optional<PageTableWalker> pageTableWalker() {
        return Optional.empty();
    }

    /**
     * A small deterministic guest this plugin can generate, dumped by {@code guestdump dump sample:} and written by
     * {@code guestdump sample-guest}; empty (the default) when it offers none. The framework uses the sample of the
     * plugin {@code guestdump.sample-arch} names, else of the first loaded plugin offering one, by plugin id.
     */
    default Optional<SampleGuest> sampleGuest() {
        return Optional.empty();
    }

    /**
     * The name of an {@code e_machine} value this plugin declares, as elf.h spells it ({@code "EM_FOO"}), for
     * messages and {@code guestdump info}; null for a value it does not name (the default). The framework knows no
     * architecture's constant: it asks the loaded plugins in turn (a plugin may name values it writes but does not read
     * back).
     */
    default String elfMachineName(int machine) {
        return null;
    }

    /**
     * {@code utsname.machine} of the kdump header: what the guest's {@code uname -m} prints, which is what crash
     * compares (case-sensitive prefixes in its {@code diskdump.c}) and libkdumpfile maps to an architecture. The
     * default is {@link #machineFor(DumpTarget)}, right wherever QEMU's target name is the kernel's.
     */
    default String utsMachine(DumpTarget target) {
        return machineFor(target);
    }

    /**
     * {@code phys_base} of the kdump sub-header: the physical address the kernel was loaded at relative to where
     * it was linked, from VMCOREINFO where the kernel publishes it (read it with {@link GuestVmcoreinfo#number},
     * which keeps the kernel's radix), else a guess from the memory layout. The default is 0.
     *
     * @param target     the dump target
     * @param vmcoreinfo the guest's VMCOREINFO as the framework found it, {@link GuestVmcoreinfo#empty()} when none
     * @param blocks     all guest memory (not only the dumped part)
     */
    default long physBase(DumpTarget target, GuestVmcoreinfo vmcoreinfo, List<GuestBlock> blocks) {
        return 0L;
    }

    /**
     * Registers neither QEMU's {@code info registers -a} nor its CPU notes give, which a live source reads from
     * QEMU's gdbstub for a guest of {@code machine} (the {@code query-target} arch): gdbstub register name (as in
     * QEMU's target description XML) to this plugin's register name. Empty (the default): the stub is not used.
     * A user may override the map under {@code guestdump.source.qmp.gdbstub-registers.<machine>}.
     */
    default Map<String, String> gdbstubRegisters(String machine) {
        return Map.of();
    }

    /**
     * Bytes of the guest kernel's {@code unsigned long} (and pointers), for reading its data structures: by default
     * the ELF class's address size. A plugin whose 32-bit guests may be dumped as ELF64 overrides it.
     */
    default int kernelWordSize(GuestState guest, DumpTarget target) {
        return target.elfClass().addressSize();
    }

    /**
     * The id strings of the migration-stream device sections that hold one vCPU each (QEMU registers a vCPU's
     * vmstate under one name, with the vCPU index as instance id). Empty: this plugin reads no migration streams.
     */
    default Set<String> migrationCpuSections() {
        return Set.of();
    }

    /**
     * The guest machine name ({@link #machines()}) of a QEMU migration stream, when this plugin serves it.
     *
     * @param machineType the machine type the stream's configuration section names, with its version
     * @param cpus        the stream's vCPU sections (of {@link #migrationCpuSections()}), in vCPU order
     * @return empty when the stream is not one of this plugin's guests
     */
    default Optional<String> migrationMachine(String machineType, List<MigrationDevice> cpus) {
        return Optional.empty();
    }

    /**
     * Where the stream's RAMBlocks lie in guest-physical memory for this machine type (QEMU's board code decides
     * it, and the stream does not say). Blocks not mapped are left out of the dump.
     *
     * @param machineType the stream's machine type
     * @param machine     the guest machine name {@link #migrationMachine} chose
     * @param blocks      RAMBlock id string to used length, in stream order
     * @throws UnsupportedGuestException when the machine type is not known to this plugin
     */
    default List<RamBlockMapping> migrationRamLayout(String machineType, String machine,
            Map<String, Long> blocks) {
        throw new UnsupportedGuestException("the " + id() + " plugin does not know where machine type "
                + machineType + " maps its RAM");
    }

    /**
     * One vCPU's registers from its migration-stream section, in this plugin's register names.
     *
     * @param cpu     the section ({@code instanceId} is the vCPU index)
     * @param machine the guest machine name
     */
    default VcpuState decodeMigrationCpu(MigrationDevice cpu, String machine) {
        throw new UnsupportedGuestException("the " + id() + " plugin does not decode migration-stream vCPUs");
    }

    /**
     * The id strings of this architecture's iterative migration sections (other than QEMU's "ram"), which
     * {@link #skipMigrationSection} can step over, e.g. a storage-key or hash-table section.
     */
    default Set<String> migrationIterativeSections() {
        return Set.of();
    }

    /**
     * Reads past one part (START, PART or END data) of an iterative section of {@link #migrationIterativeSections()},
     * up to and excluding its section footer.
     *
     * @throws InvalidInputException naming the byte when the data is not what QEMU writes
     */
    default void skipMigrationSection(String idstr, MigrationInput in) {
        throw new UnsupportedGuestException("the " + id() + " plugin does not read migration section " + idstr);
    }
}
