package io.guestdump.testkit;

import io.guestdump.elf.ElfCodec;
import io.guestdump.elf.ElfHeader;
import io.guestdump.elf.Note;
import io.guestdump.elf.NoteEncoder;
import io.guestdump.elf.ProgramHeader;
import io.guestdump.elf.SegmentType;
import io.guestdump.memory.BlockData;
import io.guestdump.memory.GuestBlock;
import io.guestdump.memory.GuestMemory;
import io.guestdump.memory.PhysRange;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads vmcores in tests (the golden QEMU dumps included): the PT_NOTE payload and the guest-physical blocks of {@code info mtree -f}. */
public final class GoldenVmcore {
    private static final Pattern MTREE_BLOCK =
            Pattern.compile("\\s*([0-9a-f]{16})-([0-9a-f]{16}) \\(prio -?\\d+, (?:ram|rom)\\): (\\S+).*");

    private GoldenVmcore() {}

    /** The ELF header of a vmcore. */
    public static ElfHeader header(Path elf) throws IOException {
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(elf)) {
            ByteBuffer head = ByteBuffer.allocate(64);
            ch.read(head, 0);
            head.flip();
            return ElfCodec.readHeader(head);
        }
    }

    /**
     * The bytes of the vmcore's PT_NOTE segment, read without loading the file (QEMU 7.2 puts section headers
     * first: phoff comes from e_phoff).
     */
    public static byte[] noteSegment(Path elf) throws IOException {
        ElfHeader h = header(elf);
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(elf)) {
            for (int i = 0; i < h.phnum(); i++) {
                ByteBuffer buf = ByteBuffer.allocate(h.phentsize()).order(h.data().order());
                ch.read(buf, h.phoff() + (long) i * h.phentsize());
                buf.flip();
                ProgramHeader p = ElfCodec.readProgramHeader(buf, h.elfClass());
                if (p.type() == SegmentType.PT_NOTE) {
                    ByteBuffer notes = ByteBuffer.allocate(Math.toIntExact(p.filesz()));
                    while (notes.hasRemaining() && ch.read(notes, p.offset() + notes.position()) > 0) {
                        // read until full
                    }
                    return notes.array();
                }
            }
        }
        throw new AssertionError("no PT_NOTE in " + elf);
    }

    /** The notes of the vmcore, in file order. */
    public static List<Note> notes(Path elf) throws IOException {
        return NoteEncoder.decode(noteSegment(elf), header(elf).data());
    }

    /**
     * The RAM and ROM sections of the first flat view of {@code info mtree -f} (address space "memory"): QEMU's
     * guest-physical blocks, backed here by zeros that are never read.
     */
    public static GuestMemory mtreeBlocks(Path mtree) throws IOException {
        List<GuestBlock> blocks = new ArrayList<>();
        boolean inFirstView = false;
        for (String line : Files.readAllLines(mtree)) {
            if (line.startsWith("FlatView")) {
                if (inFirstView) {
                    break;
                }
                inFirstView = true;
                continue;
            }
            Matcher m = MTREE_BLOCK.matcher(line);
            if (inFirstView && m.matches()) {
                long start = Long.parseUnsignedLong(m.group(1), 16);
                long end = Long.parseUnsignedLong(m.group(2), 16) + 1;
                blocks.add(new GuestBlock(new PhysRange(start, end), new Unread(end - start), m.group(3)));
            }
        }
        return new GuestMemory(blocks);
    }

    /** One small block at 0, for tests where memory layout does not matter. */
    public static GuestMemory smallMemory() {
        return new GuestMemory(List.of(new GuestBlock(new PhysRange(0, 4096), new Unread(4096), "ram")));
    }

    /** Block data of a given size that tests never read. */
    public static final class Unread implements BlockData {
        private final long size;

        public Unread(long size) {
            this.size = size;
        }

        @Override
        public long size() {
            return size;
        }

        @Override
        public void read(long offset, ByteBuffer dst) {
            throw new UnsupportedOperationException("describe() must not read guest memory");
        }
    }
}
