package io.guestdump.arch.s390x;

import io.guestdump.arch.api.CpuNote;
import io.guestdump.arch.api.NoteGroup;
import io.guestdump.elf.NoteType;
import java.util.List;

/**
 * The ten notes QEMU writes per s390x vCPU, in file order (QEMU {@code note_core} then {@code note_linux}), each
 * with its encoder and decoder so that writing, sizing and reading share one definition (the framework's
 * {@code NoteTableReader} reads with the same rows: each {@code NT_PRSTATUS} starts the next vCPU, whose index is
 * its position in the file; the s390-specific notes are accepted under owner {@code CORE} too, as QEMU before 2.9
 * named them; other notes, e.g. {@code NT_S390_PV_CPU_DATA}, are skipped):
 *
 * <pre>
 *   CORE  NT_PRSTATUS       (1)      336   {@link S390xPrStatus}
 *   CORE  NT_FPREGSET       (2)      136   {@link S390xFpregset}
 *   LINUX NT_S390_PREFIX    (0x305)    4   {@link S390xSystemRegisters}
 *   LINUX NT_S390_CTRS      (0x304)  128
 *   LINUX NT_S390_TIMER     (0x301)    8
 *   LINUX NT_S390_TODCMP    (0x302)    8
 *   LINUX NT_S390_TODPREG   (0x303)    4
 *   LINUX NT_S390_VXRS_LOW  (0x309)  128   {@link S390xVectorRegisters}
 *   LINUX NT_S390_VXRS_HIGH (0x30a)  256
 *   LINUX NT_S390_GS_CB     (0x30b)   32   {@link S390xSystemRegisters}
 * </pre>
 *
 * QEMU's protected-virtualization note ({@code NT_S390_PV_CPU_DATA}) needs the KVM ultravisor and is not written.
 */
public final class S390xNoteTable {
    /** Owner of the notes every ELF core has. */
    public static final String OWNER_CORE = "CORE";
    /** Owner of the s390-specific notes (libbfd requires it, QEMU commit 5f706fdc16). */
    public static final String OWNER_LINUX = "LINUX";

    /** The rows in QEMU's order. */
    static final List<CpuNote> ROWS = List.of(
            new CpuNote(OWNER_CORE, NoteType.NT_PRSTATUS, NoteGroup.ARCH, S390xPrStatus.SIZE,
                    S390xPrStatus::write, S390xPrStatus::read),
            new CpuNote(OWNER_CORE, S390xElf.NT_FPREGSET, NoteGroup.ARCH, S390xFpregset.SIZE,
                    S390xFpregset::write, S390xFpregset::read),
            new CpuNote(OWNER_LINUX, S390xElf.NT_S390_PREFIX, NoteGroup.ARCH, S390xSystemRegisters.PREFIX_SIZE,
                    S390xSystemRegisters::writePrefix, S390xSystemRegisters::readPrefix),
            new CpuNote(OWNER_LINUX, S390xElf.NT_S390_CTRS, NoteGroup.ARCH, S390xSystemRegisters.CTRS_SIZE,
                    S390xSystemRegisters::writeControlRegisters, S390xSystemRegisters::readControlRegisters),
            new CpuNote(OWNER_LINUX, S390xElf.NT_S390_TIMER, NoteGroup.ARCH, S390xSystemRegisters.TIMER_SIZE,
                    S390xSystemRegisters::writeTimer, S390xSystemRegisters::readTimer),
            new CpuNote(OWNER_LINUX, S390xElf.NT_S390_TODCMP, NoteGroup.ARCH, S390xSystemRegisters.TODCMP_SIZE,
                    S390xSystemRegisters::writeClockComparator, S390xSystemRegisters::readClockComparator),
            new CpuNote(OWNER_LINUX, S390xElf.NT_S390_TODPREG, NoteGroup.ARCH, S390xSystemRegisters.TODPREG_SIZE,
                    S390xSystemRegisters::writeTodProgrammable, S390xSystemRegisters::readTodProgrammable),
            new CpuNote(OWNER_LINUX, S390xElf.NT_S390_VXRS_LOW, NoteGroup.ARCH, S390xVectorRegisters.LOW_SIZE,
                    S390xVectorRegisters::writeLow, S390xVectorRegisters::readLow),
            new CpuNote(OWNER_LINUX, S390xElf.NT_S390_VXRS_HIGH, NoteGroup.ARCH, S390xVectorRegisters.HIGH_SIZE,
                    S390xVectorRegisters::writeHigh, S390xVectorRegisters::readHigh),
            new CpuNote(OWNER_LINUX, S390xElf.NT_S390_GS_CB, NoteGroup.ARCH, S390xSystemRegisters.GS_CB_SIZE,
                    S390xSystemRegisters::writeGuardedStorage, S390xSystemRegisters::readGuardedStorage));

    private S390xNoteTable() {}

    /** The table the notes are written and read with. */
    static List<CpuNote> cpuNotes() {
        return ROWS;
    }
}
