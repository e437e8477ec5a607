/** The PT_NOTE segment: per-CPU notes in QEMU's order, then the guest's VMCOREINFO and carried-over notes. */
package io.guestdump.core.notes;
