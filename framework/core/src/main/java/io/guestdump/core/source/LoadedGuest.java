package io.guestdump.core.source;

import io.guestdump.arch.api.GuestState;
import io.guestdump.core.plugins.ArchitectureRegistry;
import io.guestdump.elf.Note;
import java.io.Closeable;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * An opened guest: its state, the plugin that serves it, notes to carry into the output, and the open files
 * behind its memory, closed with it.
 */
public final class LoadedGuest implements AutoCloseable {
    private final GuestState state;
    private final ArchitectureRegistry.Loaded arch;
    private final List<Note> carriedNotes;
    private final String vmcoreinfoOrigin;
    private final List<Closeable> resources;

    /**
     * @param state            the guest
     * @param arch             the plugin serving it
     * @param carriedNotes     notes of an input vmcore that the output keeps as they are (unknown notes)
     * @param vmcoreinfoOrigin where the VMCOREINFO text came from, or null when there is none
     * @param resources        open files to close with the guest
     */
    public LoadedGuest(GuestState state, ArchitectureRegistry.Loaded arch, List<Note> carriedNotes,
            String vmcoreinfoOrigin, List<? extends Closeable> resources) {
        this.state = state;
        this.arch = arch;
        this.carriedNotes = List.copyOf(carriedNotes);
        this.vmcoreinfoOrigin = vmcoreinfoOrigin;
        this.resources = new ArrayList<>(resources);
    }

    /** The guest. */
    public GuestState state() {
        return state;
    }

    /** The plugin serving it. */
    public ArchitectureRegistry.Loaded arch() {
        return arch;
    }

    /** Notes of the input kept as they are. */
    public List<Note> carriedNotes() {
        return carriedNotes;
    }

    /** Where the VMCOREINFO text came from, or null. */
    public String vmcoreinfoOrigin() {
        return vmcoreinfoOrigin;
    }

    /** Asks every resource that can whether the guest stayed as it was while it was read (before the commit). */
    public void checkConsistent() throws IOException {
        for (Closeable c : resources) {
            if (c instanceof GuestSessionCheck check) {
                check.checkConsistent();
            }
        }
    }

    /** How a live source captured the guest (see {@link GuestSessionCheck#capture()}), or null. */
    public String capture() {
        for (Closeable c : resources) {
            if (c instanceof GuestSessionCheck check && check.capture() != null) {
                return check.capture();
            }
        }
        return null;
    }

    @Override
    public void close() {
        IOException first = null;
        for (Closeable c : resources) {
            try {
                c.close();
            } catch (IOException e) {
                if (first == null) {
                    first = e;
                }
            }
        }
        resources.clear();
    }
}
