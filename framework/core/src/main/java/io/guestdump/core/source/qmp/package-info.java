/**
 * Live QEMU guests over QMP ({@code qmp:/path/qmp.sock}): the client, the flat-view parser that finds the blocks
 * QEMU would dump, the {@code pmemsave} pipe reader, and the session that stops and resumes the guest.
 */
package io.guestdump.core.source.qmp;
