package io.guestdump.elf;

import java.util.Arrays;
import java.util.HexFormat;

/**
 * One ELF note as a value: owner, type and descriptor. Padding and {@code n_namesz} are {@link NoteEncoder}'s job.
 *
 * @param owner the owner name without its NUL, e.g. {@code "CORE"}
 * @param type  {@code n_type}
 * @param desc  the descriptor bytes, already in the file's byte order
 */
public record Note(String owner, int type, byte[] desc) {

    /** Copies the descriptor so the value stays immutable. */
    public Note {
        desc = desc.clone();
    }

    /** The descriptor bytes (a copy). */
    @Override
    public byte[] desc() {
        return desc.clone();
    }

    /** Bytes of the descriptor without copying it. */
    public int descSize() {
        return desc.length;
    }

    /** Bytes this note takes in a PT_NOTE segment: header, padded name, padded descriptor. */
    public long encodedSize() {
        return encodedSize(owner, desc.length);
    }

    /** The size formula for a note of this owner and descriptor size (Linux {@code vmcore.c}). */
    public static long encodedSize(String owner, long descSize) {
        return NoteHeader.SIZE
                + Alignment.up((long) NoteEncoder.ownerBytes(owner).length + 1, ElfConstants.NOTE_ALIGNMENT)
                + Alignment.up(descSize, ElfConstants.NOTE_ALIGNMENT);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Note n && n.owner.equals(owner) && n.type == type && Arrays.equals(n.desc, desc);
    }

    @Override
    public int hashCode() {
        return (owner.hashCode() * 31 + type) * 31 + Arrays.hashCode(desc);
    }

    @Override
    public String toString() {
        String hex = HexFormat.of().formatHex(desc, 0, Math.min(desc.length, 16));
        return "Note[" + owner + ", type=0x" + Integer.toHexString(type) + ", descsz=" + desc.length + ", " + hex
                + (desc.length > 16 ? "…" : "") + "]";
    }
}
