package io.guestdump.core.source;

import io.guestdump.core.plugins.ArchitectureRegistry;

/** Something a guest can be read from. */
public interface GuestSource {

    /** Opens the guest; the caller closes it. Bad input throws {@code InvalidInputException} naming the spot. */
    LoadedGuest open(ArchitectureRegistry registry);

    /** What this source is, for messages: {@code snapshot:/path/guest.conf}. */
    String describe();
}
