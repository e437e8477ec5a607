package io.guestdump.arch.api;

import io.guestdump.elf.Note;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads a vmcore's CPU notes back by walking the same {@link CpuNote} table that wrote them, so the two directions
 * cannot drift. The rules follow the order the framework writes (and QEMU's):
 *
 * <ul>
 *   <li>a note matches a row by {@code n_type} and owner, where {@code CORE} and {@code LINUX} count as one owner
 *       (QEMU writes some register sets as CORE that Linux names LINUX); among rows of one type the
 *       {@code n_descsz} picks the row (e.g. two prstatus layouts), and a size no row has is an error;</li>
 *   <li>the table's first row (the prstatus) starts the next vCPU; the other {@link NoteGroup#ARCH} rows belong to
 *       the vCPU started last, at most once each;</li>
 *   <li>the k-th note of a {@link NoteGroup#QEMU} row belongs to the k-th vCPU (those are written after every
 *       vCPU's ARCH notes);</li>
 *   <li>notes no row matches are skipped (other tools' notes);</li>
 *   <li>vCPU indexes come from {@code pr_pid} = index + 1 ({@link PrStatus}) when every vCPU reported one and they
 *       increase, else from the position in the file.</li>
 * </ul>
 */
public final class NoteTableReader {
    private NoteTableReader() {}

    /**
     * Decodes {@code notes} (every note of the file except VMCOREINFO, in file order) with {@code table}.
     *
     * @param arch  for messages, the plugin's id
     * @throws InvalidInputException naming the note, its size and what the table expects
     */
    public static List<VcpuState> read(List<CpuNote> table, List<Note> notes, DumpTarget target, String arch) {
        if (table.isEmpty()) {
            throw new IllegalStateException("a note table to read with has at least one row");
        }
        CpuNote leader = table.get(0);
        List<VcpuState.Builder> cpus = new ArrayList<>();
        List<Set<CpuNote>> seen = new ArrayList<>();
        Map<CpuNote, Integer> qemuCounts = new HashMap<>();
        for (int i = 0; i < notes.size(); i++) {
            Note note = notes.get(i);
            List<CpuNote> candidates = table.stream().filter(r -> r.reader() != null && matches(r, note)).toList();
            if (candidates.isEmpty()) {
                continue;
            }
            int at = i;
            CpuNote row = candidates.stream().filter(r -> r.descSize() == note.descSize()).findFirst()
                    .orElseThrow(() -> new InvalidInputException("note #" + at + " (" + note.owner() + " type 0x"
                            + Integer.toHexString(note.type()) + ") has n_descsz=" + note.descSize() + " but " + arch
                            + "'s is " + sizes(candidates) + ": the vmcore is not an " + arch
                            + " dump or is damaged; check e_machine and the note segment with `readelf -nW`"));
            VcpuState.Builder into;
            if (row.group() == NoteGroup.QEMU) {
                int k = qemuCounts.merge(row, 1, Integer::sum) - 1;
                while (cpus.size() <= k) {
                    cpus.add(VcpuState.builder(cpus.size()));
                    seen.add(new HashSet<>());
                }
                into = cpus.get(k);
            } else {
                if (sameKind(row, leader)) {
                    cpus.add(VcpuState.builder(cpus.size()));
                    seen.add(new HashSet<>());
                } else if (cpus.isEmpty()) {
                    throw new InvalidInputException("note #" + i + " (" + note.owner() + " type 0x"
                            + Integer.toHexString(note.type()) + ") comes before the first " + leader.owner()
                            + " type " + leader.type() + " note, so no vCPU owns it; an " + arch
                            + " vmcore starts each vCPU's notes with that note");
                }
                int k = cpus.size() - 1;
                if (!seen.get(k).add(row)) {
                    throw new InvalidInputException("note #" + i + " (" + note.owner() + " type 0x"
                            + Integer.toHexString(note.type()) + ") appears twice for vCPU " + k
                            + " (no new vCPU's first note between them); the note segment is damaged");
                }
                into = cpus.get(k);
            }
            row.reader().read(target.data().wrap(note.desc()), into);
        }
        checkQemuCounts(qemuCounts, cpus.size(), notes, arch);
        boolean pidsUsable = !cpus.isEmpty();
        for (int i = 0; pidsUsable && i < cpus.size(); i++) {
            Integer pid = cpus.get(i).pid();
            pidsUsable = pid != null && pid >= 1 && (i == 0 || pid > cpus.get(i - 1).pid());
        }
        List<VcpuState> out = new ArrayList<>();
        for (int i = 0; i < cpus.size(); i++) {
            int index = pidsUsable ? cpus.get(i).pid() - 1 : i;
            out.add(new VcpuState(index, cpus.get(i).registers()));
        }
        return out;
    }

    private static void checkQemuCounts(Map<CpuNote, Integer> counts, int cpus, List<Note> notes, String arch) {
        for (Map.Entry<CpuNote, Integer> e : counts.entrySet()) {
            if (e.getValue() != cpus) {
                throw new InvalidInputException("the vmcore has " + e.getValue() + " " + e.getKey().owner()
                        + " notes but " + cpus + " vCPUs; an " + arch + " dump has one per vCPU. The file is damaged.");
            }
        }
    }

    private static boolean matches(CpuNote row, Note note) {
        return row.type() == note.type() && sameOwner(row.owner(), note.owner());
    }

    private static boolean sameKind(CpuNote a, CpuNote b) {
        return a.type() == b.type() && sameOwner(a.owner(), b.owner()) && a.group() == b.group();
    }

    /** CORE and LINUX name the same register sets (QEMU and Linux disagree on which is which). */
    static boolean sameOwner(String a, String b) {
        return a.equals(b) || (isCoreFamily(a) && isCoreFamily(b));
    }

    private static boolean isCoreFamily(String owner) {
        return owner.equals("CORE") || owner.equals("LINUX");
    }

    private static String sizes(List<CpuNote> rows) {
        List<String> s = new ArrayList<>();
        for (CpuNote r : rows) {
            s.add(Integer.toString(r.descSize()));
        }
        return String.join(" or ", s);
    }
}
