package io.guestdump.core.vmcore;

import io.guestdump.elf.ElfClass;
import io.guestdump.elf.ElfCodec;
import io.guestdump.elf.ProgramHeader;
import io.guestdump.memory.GuestBlock;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.util.List;

/**
 * Streams a planned vmcore: headers and notes from small buffers, memory block by block in large transfers
 * ({@code FileChannel.transferTo} for file-backed blocks). It discovers no offsets: the layout has them all, and
 * the writer checks that it lands on each. Sparse output ({@code guestdump.elf.sparse}, on by default, new files
 * only) leaves every all-zero {@value #HOLE_GRAIN}-byte block of the file's memory part unwritten, so the file system
 * can keep it as a hole; the file's bytes are the same.
 */
public final class VmcoreWriter {
    /** Memory is copied in pieces of this size so that progress can be reported; no page-per-write. */
    static final long CHUNK = 64L << 20;
    /**
     * Sparse output: memory is read in pieces of this size and checked for zeros... Small on purpose, like cat's
     * buffer: the kernel copies out of a small reused buffer at a steady speed, and out of a 1 or 4 MiB one 2-3 times
     * slower on these machines (system time of a 2 GiB copy, bench/README.md).
     */
    static final int SPARSE_CHUNK = 128 << 10;
    /** ...in pieces of this size (a file-system block): each all-zero piece is skipped, not written. */
    static final int HOLE_GRAIN = 4096;

    private VmcoreWriter() {}

    /** Writes the whole file to {@code out}, every byte. */
    public static void write(VmcoreLayout layout, byte[] notes, WritableByteChannel out, ProgressListener progress)
            throws IOException {
        write(layout, notes, out, false, progress);
    }

    /**
     * Writes the whole file to {@code out}.
     *
     * @param sparse skip all-zero pieces of memory when {@code out} is a {@link FileChannel} (ignored otherwise)
     */
    public static void write(VmcoreLayout layout, byte[] notes, WritableByteChannel out, boolean sparse,
            ProgressListener progress) throws IOException {
        write(layout, notes, out, sparse, false, progress);
    }

    /**
     * Writes the whole file to {@code out}.
     *
     * @param sparse skip all-zero pieces of memory when {@code out} is a {@link FileChannel} (ignored otherwise)
     * @param holes  leave memory that is known to be zeros without reading it ({@link
     *               io.guestdump.memory.BlockData#knownZeros}, a zero-filled tail) as a hole when {@code out} is a
     *               {@link FileChannel} of a seekable file: a source claiming a huge zero tail costs no time or disk
     */
    public static void write(VmcoreLayout layout, byte[] notes, WritableByteChannel out, boolean sparse,
            boolean holes, ProgressListener progress) throws IOException {
        FileChannel file = holes && out instanceof FileChannel f ? f : null;
        if (notes.length != layout.noteSize()) {
            throw new IllegalStateException("notes are " + notes.length + " bytes, layout says " + layout.noteSize());
        }
        long pos = writeHeaders(layout, out);
        pos += writeFully(out, ByteBuffer.wrap(notes));
        expect(pos, layout.memoryOffset(), "memory");
        progress.progress(pos, layout.fileSize());
        if (sparse && out instanceof FileChannel sparseFile) {
            writeSparse(layout, sparseFile, pos, progress);
            return;
        }
        for (GuestBlock b : layout.blocks()) {
            long len = b.range().length();
            for (long done = 0; done < len; ) {
                long zeros = file == null ? 0 : Math.min(len - done, b.data().knownZeros(done));
                if (zeros >= HOLE_GRAIN) {
                    done += zeros;
                    pos += zeros;
                    file.position(pos);
                    progress.progress(pos, layout.fileSize());
                    continue;
                }
                long n = Math.min(CHUNK, len - done);
                b.data().transferTo(done, n, out);
                done += n;
                pos += n;
                progress.progress(pos, layout.fileSize());
            }
        }
        expect(pos, layout.fileSize(), "end of file");
        if (file != null && file.size() < pos) { // the file ends in a hole: give it its length
            file.write(ByteBuffer.wrap(new byte[1]), pos - 1);
        }
    }

    /**
     * The memory part, from {@code pos}, leaving all-zero pieces as holes; the file ends at its planned size. Memory
     * is read into one reused direct buffer (no copy inside the JVM) and its non-zero runs are positional writes,
     * one per run. Reading through a fresh mapping of a file instead was 4 times slower here: the kernel's copy out
     * of newly mapped pages dominated (bench/README.md).
     */
    private static void writeSparse(VmcoreLayout layout, FileChannel out, long pos, ProgressListener progress)
            throws IOException {
        ByteBuffer buf = ByteBuffer.allocateDirect(SPARSE_CHUNK);
        ZeroRuns runs = new ZeroRuns();
        for (GuestBlock b : layout.blocks()) {
            long len = b.range().length();
            for (long done = 0; done < len; ) {
                long known = Math.min(len - done, b.data().knownZeros(done)) & -HOLE_GRAIN;
                if (known > 0) { // known zeros (a zero-filled tail): a hole without reading them
                    done += known;
                    pos += known;
                    progress.progress(pos, layout.fileSize());
                    continue;
                }
                int n = (int) Math.min(SPARSE_CHUNK, len - done);
                buf.clear().limit(n);
                b.data().read(done, buf);
                runs.writeNonZero(buf.flip(), out, pos);
                done += n;
                pos += n;
                progress.progress(pos, layout.fileSize());
            }
        }
        expect(pos, layout.fileSize(), "end of file");
        out.position(pos);
        if (out.size() < pos) { // the file ends in a hole: give it its length
            out.write(ByteBuffer.wrap(new byte[1]), pos - 1);
        }
    }

    /** Finds the all-zero {@value #HOLE_GRAIN}-byte pieces of a buffer and writes what lies between them. */
    static final class ZeroRuns {
        private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(HOLE_GRAIN).asReadOnlyBuffer();
        private final ByteBuffer zeros = ZEROS.duplicate();

        /**
         * Writes every non-zero run of {@code data} (position 0 to its limit) at {@code at} + its offset. The pieces
         * checked are the file's own {@value #HOLE_GRAIN}-byte blocks (memory starts at an odd file offset, after
         * the notes), so each zero piece is a whole block the file system can leave unallocated.
         */
        void writeNonZero(ByteBuffer data, FileChannel out, long at) throws IOException {
            ByteBuffer view = data.duplicate();
            int n = data.limit();
            int run = -1; // start of the pending non-zero run
            int off = 0;
            int end = (int) Math.min(n, HOLE_GRAIN - Math.floorMod(at, (long) HOLE_GRAIN));
            while (off < n) {
                int piece = end - off;
                view.clear().position(off).limit(end);
                zeros.clear().limit(piece);
                boolean zero = view.mismatch(zeros) < 0;
                if (!zero && run < 0) {
                    run = off;
                } else if (zero && run >= 0) {
                    writeAt(out, data, run, off, at);
                    run = -1;
                }
                off = end;
                end = Math.min(n, end + HOLE_GRAIN);
            }
            if (run >= 0) {
                writeAt(out, data, run, n, at);
            }
        }

        private static void writeAt(FileChannel out, ByteBuffer data, int from, int to, long at) throws IOException {
            ByteBuffer part = data.duplicate().clear().position(from).limit(to);
            long where = at + from;
            while (part.hasRemaining()) {
                where += out.write(part, where);
            }
        }
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
