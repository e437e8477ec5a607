/** ELF structures, constants and their byte-exact encoding; knows nothing about guests or plugins. */
package io.guestdump.elf;
