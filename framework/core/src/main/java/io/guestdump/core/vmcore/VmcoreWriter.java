package io.guestdump.core.vmcore;

import io.guestdump.elf.ElfClass;
import io.guestdump.elf.ElfCodec;
import io.guestdump.elf.ProgramHeader;
import io.guestdump.memory.GuestBlock;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.util.List;

/**
 * Streams a planned vmcore: headers and notes from small buffers, memory block by block in large transfers
 * ({@code FileChannel.transferTo} for file-backed blocks). It discovers no offsets: the layout has them all, and
 * the writer checks that it lands on each.
 */
public final class VmcoreWriter {
    /** Memory is copied in pieces of this size so that progress can be reported; no page-per-write. */
    static final long CHUNK = 64L << 20;

    private VmcoreWriter() {}

    /** Writes the whole file to {@code out}. */
    public static void write(VmcoreLayout layout, byte[] notes, WritableByteChannel out, ProgressListener progress)
            throws IOException {
        if (notes.length != layout.noteSize()) {
            throw new IllegalStateException("notes are " + notes.length + " bytes, layout says " + layout.noteSize());
        }
        long pos = writeHeaders(layout, out);
        pos += writeFully(out, ByteBuffer.wrap(notes));
        expect(pos, layout.memoryOffset(), "memory");
        progress.progress(pos, layout.fileSize());
        for (GuestBlock b : layout.blocks()) {
            long len = b.range().length();
            for (long done = 0; done < len; ) {
                long n = Math.min(CHUNK, len - done);
                b.data().transferTo(done, n, out);
                done += n;
                pos += n;
                progress.progress(pos, layout.fileSize());
            }
        }
        expect(pos, layout.fileSize(), "end of file");
    }

    private static long writeHeaders(VmcoreLayout layout, WritableByteChannel out) throws IOException {
        ElfClass c = layout.target().elfClass();
        ByteBuffer buf = layout.target().data().allocate((int) Math.min(layout.headersSize(), 1 << 20));
        ElfCodec.writeHeader(buf, layout.header());
        long pos = 0;
        List<ProgramHeader> phdrs = layout.programHeaders();
        for (ProgramHeader p : phdrs) {
            if (buf.remaining() < c.phdrSize()) {
                buf.flip();
                pos += writeFully(out, buf);
                buf.clear();
            }
            ElfCodec.writeProgramHeader(buf, c, p);
        }
        if (layout.section0().isPresent()) {
            if (buf.remaining() < c.shdrSize()) {
                buf.flip();
                pos += writeFully(out, buf);
                buf.clear();
            }
            expect(pos + buf.position(), layout.header().shoff(), "section header 0");
            ElfCodec.writeSectionHeader(buf, c, layout.section0().get());
        }
        buf.flip();
        pos += writeFully(out, buf);
        expect(pos, layout.noteOffset(), "notes");
        return pos;
    }

    private static long writeFully(WritableByteChannel out, ByteBuffer buf) throws IOException {
        long n = buf.remaining();
        while (buf.hasRemaining()) {
            out.write(buf);
        }
        return n;
    }

    private static void expect(long actual, long planned, String what) {
        if (actual != planned) {
            throw new IllegalStateException(what + " lands at " + actual + ", the layout planned " + planned);
        }
    }
}
