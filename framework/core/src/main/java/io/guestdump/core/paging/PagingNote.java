package io.guestdump.core.paging;

import io.guestdump.elf.Note;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * guestdump's own note in paging-mode dumps, so that {@code guestdump info} can say how the PT_LOADs were made and
 * how many page-table entries the walk skipped. Owner {@code GUESTDUMP}, type 0, and a text descriptor of
 * {@code key=value} lines like VMCOREINFO's:
 *
 * <pre>
 * paging=walk            (or identity: no vCPU had paging enabled)
 * paging-first-cpu=0     the first vCPU walked
 * paging-skipped=0       table entries the walk could not follow
 * </pre>
 *
 * Type 0 on purpose: BFD (gdb) hands notes of unknown owners to its generic core-note reader, which would take
 * type 1 for an {@code NT_PRSTATUS} and invent a thread; type 0 it ignores, as it ignores the {@code QEMU} and
 * {@code VMCOREINFO} notes (both type 0).
 */
public final class PagingNote {
    /** The note's owner name. */
    public static final String OWNER = "GUESTDUMP";
    /** The note's type. */
    public static final int TYPE = 0;

    private PagingNote() {}

    /** The note describing a plan. */
    public static Note of(PagingPlanner.Plan plan) {
        String text = "paging=" + (plan.walked() ? "walk" : "identity") + "\n"
                + "paging-first-cpu=" + plan.firstCpu() + "\n"
                + "paging-skipped=" + plan.skipped() + "\n";
        return new Note(OWNER, TYPE, text.getBytes(StandardCharsets.UTF_8));
    }

    /** Whether a note is one of these. */
    public static boolean is(Note note) {
        return OWNER.equals(note.owner()) && note.type() == TYPE;
    }

    /** The note's keys and values, in order; empty when the note is not one of these. */
    public static Optional<Map<String, String>> parse(Note note) {
        if (!is(note)) {
            return Optional.empty();
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (String line : new String(note.desc(), StandardCharsets.UTF_8).split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                out.put(line.substring(0, eq), line.substring(eq + 1));
            }
        }
        return Optional.of(out);
    }
}
