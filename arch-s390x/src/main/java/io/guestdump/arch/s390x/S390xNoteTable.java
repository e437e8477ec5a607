package io.guestdump.arch.s390x;

import io.guestdump.arch.api.CpuNote;
import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.arch.api.NoteGroup;
import io.guestdump.arch.api.VcpuState;
import io.guestdump.elf.ElfData;
import io.guestdump.elf.Note;
import io.guestdump.elf.NoteType;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The ten notes QEMU writes per s390x vCPU, in file order (QEMU {@code note_core} then {@code note_linux}), each
 * with its encoder and decoder so that writing, sizing and reading share one definition:
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

    /** One note of the table. */
    record Row(String owner, int type, String typeName, int size, CpuNote.DescriptorWriter writer, Reader reader) {}

    /** Reads one descriptor into a register map. */
    @FunctionalInterface
    interface Reader {
        void read(ByteBuffer in, Map<String, BigInteger> cpu);
    }

    /** The rows in QEMU's order. */
    static final List<Row> ROWS = List.of(
            new Row(OWNER_CORE, NoteType.NT_PRSTATUS, "NT_PRSTATUS", S390xPrStatus.SIZE,
                    S390xPrStatus::write, S390xPrStatus::read),
            new Row(OWNER_CORE, S390xElf.NT_FPREGSET, "NT_FPREGSET", S390xFpregset.SIZE,
                    S390xFpregset::write, S390xFpregset::read),
            new Row(OWNER_LINUX, S390xElf.NT_S390_PREFIX, "NT_S390_PREFIX", S390xSystemRegisters.PREFIX_SIZE,
                    S390xSystemRegisters::writePrefix, S390xSystemRegisters::readPrefix),
            new Row(OWNER_LINUX, S390xElf.NT_S390_CTRS, "NT_S390_CTRS", S390xSystemRegisters.CTRS_SIZE,
                    S390xSystemRegisters::writeControlRegisters, S390xSystemRegisters::readControlRegisters),
            new Row(OWNER_LINUX, S390xElf.NT_S390_TIMER, "NT_S390_TIMER", S390xSystemRegisters.TIMER_SIZE,
                    S390xSystemRegisters::writeTimer, S390xSystemRegisters::readTimer),
            new Row(OWNER_LINUX, S390xElf.NT_S390_TODCMP, "NT_S390_TODCMP", S390xSystemRegisters.TODCMP_SIZE,
                    S390xSystemRegisters::writeClockComparator, S390xSystemRegisters::readClockComparator),
            new Row(OWNER_LINUX, S390xElf.NT_S390_TODPREG, "NT_S390_TODPREG", S390xSystemRegisters.TODPREG_SIZE,
                    S390xSystemRegisters::writeTodProgrammable, S390xSystemRegisters::readTodProgrammable),
            new Row(OWNER_LINUX, S390xElf.NT_S390_VXRS_LOW, "NT_S390_VXRS_LOW", S390xVectorRegisters.LOW_SIZE,
                    S390xVectorRegisters::writeLow, S390xVectorRegisters::readLow),
            new Row(OWNER_LINUX, S390xElf.NT_S390_VXRS_HIGH, "NT_S390_VXRS_HIGH", S390xVectorRegisters.HIGH_SIZE,
                    S390xVectorRegisters::writeHigh, S390xVectorRegisters::readHigh),
            new Row(OWNER_LINUX, S390xElf.NT_S390_GS_CB, "NT_S390_GS_CB", S390xSystemRegisters.GS_CB_SIZE,
                    S390xSystemRegisters::writeGuardedStorage, S390xSystemRegisters::readGuardedStorage));

    private S390xNoteTable() {}

    /** The framework's view of the table: every row in the {@link NoteGroup#ARCH} group. */
    static List<CpuNote> cpuNotes() {
        List<CpuNote> notes = new ArrayList<>();
        for (Row r : ROWS) {
            notes.add(new CpuNote(r.owner(), r.type(), NoteGroup.ARCH, r.size(), r.writer()));
        }
        return List.copyOf(notes);
    }

    /**
     * Splits a note list into vCPUs and decodes each. Every {@code CORE NT_PRSTATUS} starts the next vCPU, whose
     * index is its position in the file (QEMU 7.2's {@code pr_pid} is byte-swapped, older QEMUs wrote 0, so it is
     * not trusted). The s390-specific notes are accepted under owner {@code CORE} too, as QEMU before 2.9 named
     * them. Notes of other types or owners (e.g. {@code NT_S390_PV_CPU_DATA}) are skipped.
     */
    static List<VcpuState> decode(List<Note> notes, ElfData data) {
        List<Map<Integer, byte[]>> cpus = new ArrayList<>();
        for (int i = 0; i < notes.size(); i++) {
            Note note = notes.get(i);
            Row row = rowFor(note);
            if (row == null) {
                continue;
            }
            String what = "note #" + i + " (" + note.owner() + " " + row.typeName() + ")";
            if (note.descSize() != row.size()) {
                throw new InvalidInputException(what + " has n_descsz=" + note.descSize() + " but s390x's is "
                        + row.size() + ": the vmcore is not an s390x dump or is damaged; check e_machine and the "
                        + "note segment with `readelf -nW`");
            }
            if (row.type() == NoteType.NT_PRSTATUS) {
                cpus.add(new LinkedHashMap<>());
            } else if (cpus.isEmpty()) {
                throw new InvalidInputException(what + " comes before the first CORE NT_PRSTATUS, so no vCPU owns it;"
                        + " an s390x vmcore starts each vCPU's notes with NT_PRSTATUS");
            }
            Map<Integer, byte[]> cpu = cpus.get(cpus.size() - 1);
            if (cpu.putIfAbsent(row.type(), note.desc()) != null) {
                throw new InvalidInputException(what + " appears twice for vCPU " + (cpus.size() - 1)
                        + " (no NT_PRSTATUS between them); the note segment is damaged");
            }
        }
        List<VcpuState> states = new ArrayList<>();
        for (int index = 0; index < cpus.size(); index++) {
            Map<String, BigInteger> regs = new LinkedHashMap<>();
            for (Row r : ROWS) {
                byte[] desc = cpus.get(index).get(r.type());
                if (desc != null) {
                    r.reader().read(data.wrap(desc), regs);
                }
            }
            LinkedHashMap<String, BigInteger> ordered = new LinkedHashMap<>();
            for (String name : S390xRegisters.names()) {
                if (regs.containsKey(name)) {
                    ordered.put(name, regs.get(name));
                }
            }
            states.add(new VcpuState(index, ordered));
        }
        return states;
    }

    private static Row rowFor(Note note) {
        for (Row r : ROWS) {
            if (r.type() != note.type()) {
                continue;
            }
            boolean coreNote = r.owner().equals(OWNER_CORE);
            if (note.owner().equals(r.owner()) || (!coreNote && note.owner().equals(OWNER_CORE))) {
                return r;
            }
        }
        return null;
    }
}
