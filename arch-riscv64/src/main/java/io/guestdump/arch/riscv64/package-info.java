/**
 * The riscv64 plugin: ELF64 {@code EM_RISCV} vmcores with one CORE {@code NT_PRSTATUS} note per vCPU, as QEMU's
 * {@code target/riscv/arch_dump.c} writes them; QEMU's {@code info registers -a} text; Sv39, Sv48 and Sv57 page
 * tables from {@code satp}.
 */
package io.guestdump.arch.riscv64;
