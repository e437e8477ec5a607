package io.guestdump.arch.x86_64;

import com.typesafe.config.Config;

/**
 * The settings of an x86 plugin, read eagerly from its {@code guestdump.arch.<id>} subtree; the defaults live in
 * the plugin's {@code reference.conf}.
 *
 * @param qemuCpuStateNote {@code qemu-cpu-state-note}: write the per-vCPU {@code QEMU} note
 */
public record X86Settings(boolean qemuCpuStateNote) {
    /** The key of {@link #qemuCpuStateNote}. */
    public static final String QEMU_CPU_STATE_NOTE = "qemu-cpu-state-note";

    /** Reads every key; a missing key is a packaging bug and throws {@code ConfigException.Missing}. */
    public static X86Settings from(Config config) {
        return new X86Settings(config.getBoolean(QEMU_CPU_STATE_NOTE));
    }
}
