package io.guestdump.arch.api;

import java.nio.ByteBuffer;

/**
 * One row of a plugin's per-CPU note table: the framework sizes the PT_NOTE segment from {@code descSize} and
 * writes the note by calling {@code writer} once per vCPU.
 *
 * @param owner    note owner name without NUL: {@code "CORE"}, {@code "LINUX"}, {@code "QEMU"}
 * @param type     {@code n_type}
 * @param group    where the note goes in the segment
 * @param descSize bytes of the descriptor; the writer gets exactly this many
 * @param writer   fills the descriptor for one vCPU
 */
public record CpuNote(String owner, int type, NoteGroup group, int descSize, DescriptorWriter writer) {

    /** Checks the size. */
    public CpuNote {
        if (descSize < 0) {
            throw new IllegalArgumentException("negative descriptor size for note " + owner + "/" + type);
        }
    }

    /** Fills one note descriptor. */
    @FunctionalInterface
    public interface DescriptorWriter {
        /**
         * Writes the descriptor for {@code cpu} into {@code out}: zero-filled, {@code descSize} bytes, position 0,
         * already in the dump's byte order. Absolute or relative puts are both fine.
         */
        void write(VcpuState cpu, ByteBuffer out);
    }
}
