package io.guestdump.arch.api;

import java.nio.ByteBuffer;

/**
 * One row of a plugin's per-CPU note table. The same row drives both directions: the framework sizes the PT_NOTE
 * segment from {@code descSize}, writes the note by calling {@code writer} once per vCPU, and reads a vmcore's
 * notes back by walking the same table and calling {@code reader} ({@link NoteTableReader}).
 *
 * @param owner    note owner name without NUL: {@code "CORE"}, {@code "LINUX"}, {@code "QEMU"}
 * @param type     {@code n_type}
 * @param group    where the note goes in the segment
 * @param descSize bytes of the descriptor; the writer gets exactly this many, the reader checks it
 * @param writer   fills the descriptor for one vCPU
 * @param reader   reads one descriptor back into registers; null for a row that is written but never read back
 */
public record CpuNote(String owner, int type, NoteGroup group, int descSize, DescriptorWriter writer,
        DescriptorReader reader) {

    /** Checks the size. */
    public CpuNote {
        if (descSize < 0) {
            throw new IllegalArgumentException("negative descriptor size for note " + owner + "/" + type);
        }
    }

    /** A write-only row (the form of the API before rows could read). */
    public CpuNote(String owner, int type, NoteGroup group, int descSize, DescriptorWriter writer) {
        this(owner, type, group, descSize, writer, null);
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

    /** Reads one note descriptor back. */
    @FunctionalInterface
    public interface DescriptorReader {
        /**
         * Reads the descriptor in {@code in} ({@code descSize} bytes, position 0, in the dump's byte order) into the
         * registers of one vCPU. A prstatus reader also reports {@code pr_pid} with {@link VcpuState.Builder#pid}.
         */
        void read(ByteBuffer in, VcpuState.Builder into);
    }
}
