/**
 * The i386 architecture plugin: qemu-system-i386 guests, with i386 register names, built on arch-x86_64's layout
 * classes (a PF4J plugin dependency).
 */
package io.guestdump.arch.i386;
