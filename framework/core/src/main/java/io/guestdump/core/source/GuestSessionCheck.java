package io.guestdump.core.source;

import java.io.IOException;

/**
 * A resource of an opened guest that can tell, after its memory was copied and before the file is committed,
 * whether the copy is consistent (a live guest that was resumed by someone else mid-dump is not).
 */
public interface GuestSessionCheck {
    /** Throws when the guest changed while it was being read. */
    void checkConsistent() throws IOException;

    /**
     * How the guest was captured, for the dump summary (a live snapshot and its downtime, or why the guest was
     * stopped instead); null when there is nothing to say.
     */
    default String capture() {
        return null;
    }
}
