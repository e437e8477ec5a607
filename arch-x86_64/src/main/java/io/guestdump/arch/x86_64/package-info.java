/**
 * The x86_64 architecture plugin: QEMU's x86 dump behaviour (ELF class and machine from the first vCPU's long-mode
 * bit, x86_64 and i386 prstatus layouts, the {@code QEMU} CPU-state note), the {@code info registers -a} parser and
 * the note decoder. The layout classes are public: the i386 plugin uses them through a PF4J plugin dependency.
 */
package io.guestdump.arch.x86_64;
