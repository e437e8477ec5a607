package io.guestdump.arch.api;

import io.guestdump.elf.Note;
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

    /** The architecture id, also the name of its config subtree and file, e.g. {@code "x86_64"}. */
    String id();

    /**
     * The guest architecture names served, as QEMU's {@code query-target} reports them and as a snapshot's
     * {@code guest.arch} names them, e.g. {@code ["aarch64", "arm"]}.
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
     */
    List<VcpuState> decodeNotes(List<Note> notes, DumpTarget target);

    /** The machine name a guest of this target would carry, given its decoded vmcore header. */
    default String machineFor(DumpTarget target) {
        return machines().iterator().next();
    }

    /** The page-table walker, where this architecture has one. */
    default Optional<PageTableWalker> pageTableWalker() {
        return Optional.empty();
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
