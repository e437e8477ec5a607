/** The guest-physical memory model: ranges, blocks and their backing bytes, the range filter; no ELF knowledge. */
package io.guestdump.memory;
