package io.guestdump.core.kdump;

import io.guestdump.elf.ElfData;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;

/**
 * Where the pieces of a kdump file go, each at its final file offset: positional writes into a file (the seekable
 * form), or records of makedumpfile's flattened form on a stream.
 */
public interface KdumpSink {

    /** Writes {@code buf}'s remaining bytes so that they land at {@code offset} of the (rearranged) file. */
    void write(long offset, ByteBuffer buf) throws IOException;

    /** Finishes the output; returns the bytes written to the channel. */
    long finish() throws IOException;

    /** The seekable form: {@code FileChannel} positional writes; holes stay sparse. */
    static KdumpSink seekable(FileChannel channel) {
        return new KdumpSink() {
            private long end;

            @Override
            public void write(long offset, ByteBuffer buf) throws IOException {
                long pos = offset;
                while (buf.hasRemaining()) {
                    pos += channel.write(buf, pos);
                }
                end = Math.max(end, pos);
            }

            @Override
            public long finish() throws IOException {
                if (channel.size() < end) {
                    throw new IOException("kdump file is " + channel.size() + " bytes, expected " + end);
                }
                return end;
            }
        };
    }

    /**
     * makedumpfile's flattened form, for pipes: a 4096-byte header ({@code "makedumpfile"}, type 1, version 1, all
     * big-endian), then records {@code {int64 offset, int64 size}} (big-endian, whatever the dump's byte order)
     * each followed by its bytes, then the end marker: 16 bytes of 0xff. Records never have size 0 (libkdumpfile
     * rejects them).
     */
    static KdumpSink flattened(WritableByteChannel out) throws IOException {
        return new Flattened(out);
    }

    /** The flattened writer. */
    final class Flattened implements KdumpSink {
        /** {@code MAKEDUMPFILE_SIGNATURE}. */
        public static final String SIGNATURE = "makedumpfile";
        /** {@code MAX_SIZE_MDF_HEADER}: the header block. */
        public static final int HEADER_SIZE = 4096;
        /** {@code TYPE_FLAT_HEADER}. */
        public static final long TYPE_FLAT_HEADER = 1;
        /** {@code VERSION_FLAT_HEADER}. */
        public static final long VERSION_FLAT_HEADER = 1;
        /** {@code END_FLAG_FLAT_HEADER}: offset and size of the end marker. */
        public static final long END_FLAG_FLAT_HEADER = -1;
        /** Bytes of a record header. */
        public static final int RECORD_HEADER = 16;

        private final WritableByteChannel out;
        private final ByteBuffer record = ElfData.MSB.allocate(RECORD_HEADER);
        private long written;

        Flattened(WritableByteChannel out) throws IOException {
            this.out = out;
            ByteBuffer h = ElfData.MSB.allocate(HEADER_SIZE);
            h.put(SIGNATURE.getBytes(StandardCharsets.US_ASCII));
            h.position(16);
            h.putLong(TYPE_FLAT_HEADER);
            h.putLong(VERSION_FLAT_HEADER);
            h.clear();
            writeFully(h);
        }

        @Override
        public void write(long offset, ByteBuffer buf) throws IOException {
            if (!buf.hasRemaining()) {
                return; // a zero-length record is invalid
            }
            record.clear();
            record.putLong(offset);
            record.putLong(buf.remaining());
            record.flip();
            writeFully(record);
            writeFully(buf);
        }

        @Override
        public long finish() throws IOException {
            record.clear();
            record.putLong(END_FLAG_FLAT_HEADER);
            record.putLong(END_FLAG_FLAT_HEADER);
            record.flip();
            writeFully(record);
            return written;
        }

        private void writeFully(ByteBuffer buf) throws IOException {
            while (buf.hasRemaining()) {
                written += out.write(buf);
            }
        }
    }
}
