package io.guestdump.core.source;

import io.guestdump.core.plugins.ArchitectureRegistry;

/** Something a guest can be read from. */
public interface GuestSource {

    /** Opens the guest; the caller closes it. Bad input throws {@code InvalidInputException} naming the spot. */
    LoadedGuest open(ArchitectureRegistry registry);

    /**
     * Opens the guest for a dump whose output is being written to the temporary file {@code partial} (absent for
     * standard output). A live source records it so that, should guestdump be killed, the next guestdump can remove
     * it; others ignore it.
     */
    default LoadedGuest open(ArchitectureRegistry registry, java.util.Optional<java.nio.file.Path> partial) {
        return open(registry);
    }

    /** What this source is, for messages: {@code snapshot:/path/guest.conf}. */
    String describe();
}
