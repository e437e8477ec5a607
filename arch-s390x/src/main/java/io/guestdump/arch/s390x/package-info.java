/**
 * The s390x (z/Architecture) plugin: always ELF64, big-endian, {@code EM_S390}; per vCPU the CORE prstatus and
 * fpregset notes and the eight LINUX notes QEMU's {@code target/s390x/arch_dump.c} writes.
 */
package io.guestdump.arch.s390x;
