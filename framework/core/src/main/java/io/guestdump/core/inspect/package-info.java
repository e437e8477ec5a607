/** Reading and validating existing ELF vmcores: ours, QEMU's, virsh's. */
package io.guestdump.core.inspect;
