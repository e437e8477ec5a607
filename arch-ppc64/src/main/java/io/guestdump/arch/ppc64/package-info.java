/**
 * The ppc64 architecture plugin: QEMU's {@code target/ppc/arch_dump.c} behaviour (five notes per vCPU, byte order
 * from the interrupt endianness, 64 KiB dump pages on pseries), the parser of QEMU's {@code info registers -a}
 * text and the decoder of the notes back into registers.
 */
package io.guestdump.arch.ppc64;
