package io.guestdump.core;

import io.guestdump.arch.api.DumpTarget;
import io.guestdump.arch.api.GuestState;
import io.guestdump.core.kernel.LevelFilter;
import io.guestdump.core.kernel.Utsname;
import io.guestdump.core.source.LoadedGuest;
import io.guestdump.elf.Note;
import io.guestdump.memory.GuestBlock;
import io.guestdump.memory.MemoryMapping;
import java.util.List;

/**
 * Everything decided before the first byte is written, whatever the output format: the guest, what its plugin
 * decided, the notes, the memory to store and the mappings that describe it.
 *
 * @param guest      the opened guest (its plugin, its open files)
 * @param state      the guest's state as dumped (with VMCOREINFO found in memory, when it was searched for)
 * @param target     class, byte order, machine, page size
 * @param notes      the notes in file order
 * @param noteBytes  the notes encoded in the target's byte order
 * @param blocks     the guest-physical memory to store, ascending, already filtered
 * @param mappings   the PT_LOADs (simple mode: one per block; paging mode: the page-table walk's)
 * @param vmcoreinfo the VMCOREINFO text written, or null
 * @param vmcoreinfoOrigin where that text came from, or null
 * @param levelFilter the pages a {@code --dump-level} keeps, or null without one; {@code blocks} and
 *                    {@code mappings} are already cut to it for ELF
 * @param utsname    the guest's utsname for headers that carry one (no field empty), or null for one made from
 *                   VMCOREINFO alone
 */
public record PreparedDump(LoadedGuest guest, GuestState state, DumpTarget target, List<Note> notes,
        byte[] noteBytes, List<GuestBlock> blocks, List<MemoryMapping> mappings, String vmcoreinfo,
        String vmcoreinfoOrigin, LevelFilter levelFilter, Utsname utsname) {

    /** A dump of every page. */
    public PreparedDump(LoadedGuest guest, GuestState state, DumpTarget target, List<Note> notes,
            byte[] noteBytes, List<GuestBlock> blocks, List<MemoryMapping> mappings, String vmcoreinfo,
            String vmcoreinfoOrigin) {
        this(guest, state, target, notes, noteBytes, blocks, mappings, vmcoreinfo, vmcoreinfoOrigin, null, null);
    }

    /** A dump with a level filter, its utsname made from VMCOREINFO alone. */
    public PreparedDump(LoadedGuest guest, GuestState state, DumpTarget target, List<Note> notes,
            byte[] noteBytes, List<GuestBlock> blocks, List<MemoryMapping> mappings, String vmcoreinfo,
            String vmcoreinfoOrigin, LevelFilter levelFilter) {
        this(guest, state, target, notes, noteBytes, blocks, mappings, vmcoreinfo, vmcoreinfoOrigin, levelFilter,
                null);
    }

    /** Guest bytes stored. */
    public long memoryBytes() {
        return blocks.stream().mapToLong(b -> b.range().length()).sum();
    }
}
