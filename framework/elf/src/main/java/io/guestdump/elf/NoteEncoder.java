package io.guestdump.elf;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** The only code that writes {@code n_namesz} or pads a note. */
public final class NoteEncoder {
    private NoteEncoder() {}

    static byte[] ownerBytes(String owner) {
        return owner.getBytes(StandardCharsets.US_ASCII);
    }

    /** Writes one note at the buffer's position, in the buffer's byte order. */
    public static void write(ByteBuffer out, String owner, int type, byte[] desc) {
        int start = out.position();
        byte[] name = ownerBytes(owner);
        out.putInt(name.length + 1);
        out.putInt(desc.length);
        out.putInt(type);
        out.put(name);
        pad(out, Alignment.up(name.length + 1, ElfConstants.NOTE_ALIGNMENT) - name.length);
        out.put(desc);
        pad(out, Alignment.up(desc.length, ElfConstants.NOTE_ALIGNMENT) - desc.length);
        expectWritten(out, start, Note.encodedSize(owner, desc.length));
    }

    /** Encodes a list of notes into one PT_NOTE payload. */
    public static byte[] encode(List<Note> notes, ElfData data) {
        long total = 0;
        for (Note n : notes) {
            total = Math.addExact(total, n.encodedSize());
        }
        ByteBuffer out = data.allocate(Math.toIntExact(total));
        for (Note n : notes) {
            write(out, n.owner(), n.type(), n.desc());
        }
        return out.array();
    }

    /**
     * Decodes a PT_NOTE payload. Throws {@link IllegalArgumentException} naming the offset when a header or a
     * size points past the end.
     */
    public static List<Note> decode(byte[] segment, ElfData data) {
        ByteBuffer in = data.wrap(segment);
        List<Note> notes = new ArrayList<>();
        while (in.remaining() > 0) {
            int at = in.position();
            if (in.remaining() < NoteHeader.SIZE) {
                throw new IllegalArgumentException("truncated note header at note-segment offset " + at
                        + ": " + in.remaining() + " bytes left, " + NoteHeader.SIZE + " needed");
            }
            long namesz = Integer.toUnsignedLong(in.getInt());
            long descsz = Integer.toUnsignedLong(in.getInt());
            int type = in.getInt();
            long nameSpace = Alignment.up(namesz, ElfConstants.NOTE_ALIGNMENT);
            long descSpace = Alignment.up(descsz, ElfConstants.NOTE_ALIGNMENT);
            if (nameSpace > in.remaining() || descSpace > in.remaining() - nameSpace) {
                // the last note's descriptor padding may be missing in files written by some tools
                if (!(nameSpace <= in.remaining() && descsz <= in.remaining() - nameSpace)) {
                    throw new IllegalArgumentException("note at note-segment offset " + at + " has n_namesz=" + namesz
                            + " n_descsz=" + descsz + " but only " + in.remaining() + " bytes follow its header");
                }
                descSpace = descsz;
            }
            byte[] name = new byte[(int) namesz];
            in.get(name);
            in.position(in.position() + (int) (nameSpace - namesz));
            int len = name.length;
            while (len > 0 && name[len - 1] == 0) {
                len--;
            }
            byte[] desc = new byte[(int) descsz];
            in.get(desc);
            in.position(in.position() + (int) (descSpace - descsz));
            notes.add(new Note(new String(name, 0, len, StandardCharsets.US_ASCII), type, desc));
        }
        return notes;
    }

    private static void pad(ByteBuffer out, int count) {
        for (int i = 0; i < count; i++) {
            out.put((byte) 0);
        }
    }

    /** Throws if the bytes written since {@code start} differ from {@code expected}. */
    public static void expectWritten(ByteBuffer buf, int start, long expected) {
        long written = buf.position() - start;
        if (written != expected) {
            throw new IllegalStateException("wrote " + written + " bytes, layout says " + expected);
        }
    }
}
