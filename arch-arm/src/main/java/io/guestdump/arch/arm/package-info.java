/**
 * The ARM architecture plugin: AArch64 ({@code EM_AARCH64}, ELF64) and 32-bit ARM ({@code EM_ARM}, ELF32) vmcores
 * laid out as QEMU's {@code target/arm/arch_dump.c} writes them, the parser of QEMU's {@code info registers -a}
 * text for both, and the decoder of their notes.
 */
package io.guestdump.arch.arm;
