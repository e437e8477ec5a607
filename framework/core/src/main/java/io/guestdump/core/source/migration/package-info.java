/**
 * QEMU's migration stream (savevm format version 3, as QEMU 7.2 writes it) read as a guest: the RAM section's pages
 * indexed by stream position, device sections decoded with the stream's own JSON description. See
 * {@code docs/savestate-source.md}.
 */
package io.guestdump.core.source.migration;
