package io.guestdump.core.source;

import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.core.inspect.VmcoreFile;
import io.guestdump.elf.ElfCodec;
import io.guestdump.elf.ProgramHeader;
import io.guestdump.elf.SegmentType;
import io.guestdump.memory.BlockData;
import io.guestdump.memory.FileRegion;
import io.guestdump.memory.GuestBlock;
import io.guestdump.memory.PhysRange;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Turns the PT_LOADs of a vmcore into guest-physical blocks:
 *
 * <ul>
 *   <li>the file-backed part of a PT_LOAD, {@code [p_paddr, p_paddr + p_filesz)}, reads from
 *       {@code [p_offset, p_offset + p_filesz)} of the file (a {@link FileRegion}: streamed, never buffered);</li>
 *   <li>PT_LOADs whose file-backed parts overlap in physical space (a paging dump maps one physical range from
 *       several virtual addresses) collapse into one block when their bytes agree over the overlap, and are refused,
 *       naming both program headers and the first differing address, when they do not. Overlaps that read the same
 *       file bytes (QEMU's paging dumps share the data) need no comparison; others are compared in
 *       {@value #COMPARE_CHUNK}-byte chunks;</li>
 *   <li>the rest of {@code p_memsz} (gABI: reads as zeros) becomes zero-filled memory wherever no PT_LOAD has file
 *       bytes for it: file bytes win over a zero-filled tail. A tail right after its own segment's file part joins
 *       that block;</li>
 *   <li>blocks that merely touch stay separate, so a vmcore written by guestdump reads back with its own block
 *       structure and re-dumps byte for byte.</li>
 * </ul>
 */
public final class LoadBlocks {
    /** Bytes read from each side per comparison step of two aliasing segments. */
    static final int COMPARE_CHUNK = 256 * 1024;
    /**
     * Comparing aliasing segments may read at most this many times the file's size: a hostile file could otherwise
     * make every one of its thousands of segments alias every other one.
     */
    static final long MAX_COMPARE_FACTOR = 4;

    private LoadBlocks() {}

    /** One program header's file-backed part. */
    private record Piece(int index, ProgramHeader ph, long start, long end) {
        long fileOffsetOf(long paddr) {
            return ph.offset() + (paddr - start);
        }
    }

    /** A contiguous part of a block served by one piece. */
    private record Part(long start, long end, Piece piece) {}

    /** A run of zero-filled physical memory, owned by the first segment whose tail it is. */
    private record Zeros(int index, long start, long end) {}

    /** A block being built: contiguous parts. */
    private static final class Group {
        final List<Part> parts = new ArrayList<>();
        long start;
        long end;

        Group(Part first) {
            parts.add(first);
            start = first.start();
            end = first.end();
        }
    }

    /** The blocks of the file's PT_LOADs, ascending and disjoint; throws naming the segments on a conflict. */
    public static List<GuestBlock> build(VmcoreFile file) {
        String where = file.path().toString();
        List<ProgramHeader> phdrs = file.programHeaders();
        List<Piece> pieces = new ArrayList<>();
        List<Zeros> tails = new ArrayList<>();
        for (int i = 0; i < phdrs.size(); i++) {
            ProgramHeader ph = phdrs.get(i);
            if (ph.type() != SegmentType.PT_LOAD || ph.memsz() == 0) {
                continue;
            }
            long end = ph.paddr() + ph.memsz();
            if (end == 0 || Long.compareUnsigned(end, ph.paddr()) < 0) {
                throw new InvalidInputException(where + ": program header #" + i + " (PT_LOAD): p_paddr="
                        + ElfCodec.hex(ph.paddr()) + " + p_memsz=" + ElfCodec.hex(ph.memsz())
                        + " reaches past the last physical address (2^64); the file is corrupt");
            }
            long fileEnd = ph.paddr() + ph.filesz();
            if (ph.filesz() != 0) {
                pieces.add(new Piece(i, ph, ph.paddr(), fileEnd));
            }
            if (ph.memsz() != ph.filesz()) {
                tails.add(new Zeros(i, fileEnd, end));
            }
        }
        pieces.sort(Comparator.comparing(Piece::start, Long::compareUnsigned).thenComparingInt(Piece::index));

        Comparer comparer = new Comparer(file, where);
        List<Group> groups = new ArrayList<>();
        Group current = null;
        for (Piece p : pieces) {
            if (current != null && Long.compareUnsigned(p.start(), current.end) < 0) {
                long overlapEnd = Long.compareUnsigned(p.end(), current.end) < 0 ? p.end() : current.end;
                comparer.compare(p, current, p.start(), overlapEnd);
                if (Long.compareUnsigned(p.end(), current.end) > 0) {
                    current.parts.add(new Part(current.end, p.end(), p));
                    current.end = p.end();
                }
            } else {
                current = new Group(new Part(p.start(), p.end(), p));
                groups.add(current);
            }
        }

        List<Zeros> zeros = uncovered(tails, groups);
        List<GuestBlock> blocks = new ArrayList<>();
        int z = 0;
        for (Group g : groups) {
            while (z < zeros.size() && Long.compareUnsigned(zeros.get(z).start(), g.start) < 0) {
                blocks.add(zeroBlock(zeros.get(z++), where));
            }
            Zeros tail = null;
            Part last = g.parts.get(g.parts.size() - 1);
            if (z < zeros.size() && zeros.get(z).start() == g.end && zeros.get(z).index() == last.piece().index()) {
                tail = zeros.get(z++);
            }
            blocks.add(block(file, g, tail));
        }
        while (z < zeros.size()) {
            blocks.add(zeroBlock(zeros.get(z++), where));
        }
        checkTotal(blocks, where);
        return blocks;
    }

    /** Block data sizes are signed 64-bit values: refuse a guest that claims 2^63 bytes or more. */
    private static void checkTotal(List<GuestBlock> blocks, String where) {
        long total = 0;
        for (GuestBlock b : blocks) {
            total += b.range().length();
            if (b.range().length() < 0 || total < 0) {
                throw new InvalidInputException(where + ": the PT_LOADs up to " + b.name() + " " + b.range()
                        + " claim 2^63 bytes of guest memory or more; p_memsz is corrupt");
            }
        }
    }

    /** The zero-filled tails minus every file-backed range, sorted, with overlapping runs merged. */
    private static List<Zeros> uncovered(List<Zeros> tails, List<Group> groups) {
        long[] groupStarts = groups.stream().mapToLong(g -> g.start).toArray();
        List<Zeros> out = new ArrayList<>();
        for (Zeros t : tails) {
            long at = t.start();
            int g = firstGroupEndingAfter(groups, groupStarts, at);
            while (Long.compareUnsigned(at, t.end()) < 0) {
                if (g >= groups.size() || Long.compareUnsigned(groups.get(g).start, t.end()) >= 0) {
                    out.add(new Zeros(t.index(), at, t.end()));
                    break;
                }
                Group covering = groups.get(g);
                if (Long.compareUnsigned(at, covering.start) < 0) {
                    out.add(new Zeros(t.index(), at, covering.start));
                }
                if (Long.compareUnsigned(covering.end, at) > 0) {
                    at = covering.end;
                }
                g++;
            }
        }
        out.sort(Comparator.comparing(Zeros::start, Long::compareUnsigned).thenComparingInt(Zeros::index));
        List<Zeros> merged = new ArrayList<>();
        for (Zeros r : out) {
            Zeros prev = merged.isEmpty() ? null : merged.get(merged.size() - 1);
            if (prev != null && Long.compareUnsigned(r.start(), prev.end()) < 0) {
                if (Long.compareUnsigned(r.end(), prev.end()) > 0) {
                    merged.set(merged.size() - 1, new Zeros(prev.index(), prev.start(), r.end()));
                }
            } else {
                merged.add(r);
            }
        }
        return merged;
    }

    /** The index of the first group whose end lies above {@code address}. */
    private static int firstGroupEndingAfter(List<Group> groups, long[] starts, long address) {
        int lo = 0;
        int hi = starts.length - 1;
        int best = starts.length;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (Long.compareUnsigned(groups.get(mid).end, address) > 0) {
                best = mid;
                hi = mid - 1;
            } else {
                lo = mid + 1;
            }
        }
        return best;
    }

    private static GuestBlock block(VmcoreFile file, Group g, Zeros tail) {
        checkLength(g.start, tail != null ? tail.end() : g.end, "PT_LOAD #" + g.parts.get(0).piece().index(),
                file.path().toString());
        List<BlockData> data = new ArrayList<>();
        for (Part part : g.parts) {
            data.add(region(file, part.piece(), part.start(), part.end() - part.start()));
        }
        long end = g.end;
        if (tail != null) {
            data.add(new ZeroFillData(tail.end() - tail.start()));
            end = tail.end();
        }
        BlockData joined = data.size() == 1 ? data.get(0) : new ConcatenatedData(data);
        String name = "PT_LOAD " + g.parts.stream().map(p -> "#" + p.piece().index()).distinct().limit(4)
                .collect(Collectors.joining(", ")) + (g.parts.size() > 4 ? ", …" : "")
                + (tail != null ? " with zero-filled tail" : "");
        return new GuestBlock(new PhysRange(g.start, end), joined, name);
    }

    private static GuestBlock zeroBlock(Zeros z, String where) {
        checkLength(z.start(), z.end(), "PT_LOAD #" + z.index(), where);
        return new GuestBlock(new PhysRange(z.start(), z.end()), new ZeroFillData(z.end() - z.start()),
                "PT_LOAD #" + z.index() + " zero-filled (p_memsz beyond p_filesz)");
    }

    private static void checkLength(long start, long end, String which, String where) {
        if (end - start < 0) {
            throw new InvalidInputException(where + ": " + which + " and what joins it cover " + new PhysRange(start, end)
                    + ", 2^63 bytes or more of guest memory; p_memsz is corrupt");
        }
    }

    private static FileRegion region(VmcoreFile file, Piece p, long paddr, long length) {
        return new FileRegion(file.channel(), p.fileOffsetOf(paddr), length, file.path().getFileName().toString());
    }

    /** Compares aliasing segments chunk by chunk, within a budget proportional to the file's size. */
    private static final class Comparer {
        private final VmcoreFile file;
        private final String where;
        private final long budget;
        private long compared;
        private ByteBuffer a;
        private ByteBuffer b;

        Comparer(VmcoreFile file, String where) {
            this.file = file;
            this.where = where;
            this.budget = file.size() > Long.MAX_VALUE / MAX_COMPARE_FACTOR ? Long.MAX_VALUE
                    : file.size() * MAX_COMPARE_FACTOR;
        }

        /** Checks that {@code p} holds the same bytes as the group over {@code [start, end)}. */
        void compare(Piece p, Group g, long start, long end) {
            int i = firstPartEndingAfter(g.parts, start);
            for (; i < g.parts.size() && Long.compareUnsigned(g.parts.get(i).start(), end) < 0; i++) {
                Part q = g.parts.get(i);
                long s = Long.compareUnsigned(q.start(), start) > 0 ? q.start() : start;
                long e = Long.compareUnsigned(q.end(), end) < 0 ? q.end() : end;
                if (p.ph().offset() - p.start() == q.piece().ph().offset() - q.piece().start()) {
                    continue; // both read the same file bytes for every address
                }
                compareBytes(p, q.piece(), s, e - s);
            }
        }

        private void compareBytes(Piece p, Piece q, long paddr, long length) {
            compared += length;
            if (compared < 0 || compared > budget) {
                throw new InvalidInputException(where + ": comparing the PT_LOADs that alias each other would read "
                        + "more than " + MAX_COMPARE_FACTOR + " times the file's " + file.size() + " bytes (last: "
                        + describe(q) + " and " + describe(p) + "); the file is corrupt or hostile");
            }
            if (a == null) {
                a = ByteBuffer.allocate((int) Math.min(COMPARE_CHUNK, file.size()));
                b = ByteBuffer.allocate(a.capacity());
            }
            FileChannel ch = file.channel();
            long done = 0;
            while (done < length) {
                int n = (int) Math.min(a.capacity(), length - done);
                a.clear().limit(n);
                b.clear().limit(n);
                try {
                    VmcoreFile.readFully(ch, a, p.fileOffsetOf(paddr + done));
                    VmcoreFile.readFully(ch, b, q.fileOffsetOf(paddr + done));
                } catch (IOException e) {
                    throw new InvalidInputException(where + ": cannot read while comparing " + describe(q) + " and "
                            + describe(p) + ": " + e.getMessage(), e);
                }
                a.flip();
                b.flip();
                int at = a.mismatch(b);
                if (at >= 0) {
                    long addr = paddr + done + at;
                    throw new InvalidInputException(where + ": " + describe(q) + " and " + describe(p)
                            + " both hold guest-physical address " + ElfCodec.hex(addr) + " but disagree there ("
                            + "byte " + ElfCodec.hex(b.get(at) & 0xff) + " at file offset "
                            + ElfCodec.hex(q.fileOffsetOf(addr)) + ", byte " + ElfCodec.hex(a.get(at) & 0xff)
                            + " at file offset " + ElfCodec.hex(p.fileOffsetOf(addr)) + "); a vmcore gives each "
                            + "physical byte one value, so the file is corrupt");
                }
                done += n;
            }
        }

        private static int firstPartEndingAfter(List<Part> parts, long address) {
            int lo = 0;
            int hi = parts.size() - 1;
            int best = parts.size();
            while (lo <= hi) {
                int mid = (lo + hi) >>> 1;
                if (Long.compareUnsigned(parts.get(mid).end(), address) > 0) {
                    best = mid;
                    hi = mid - 1;
                } else {
                    lo = mid + 1;
                }
            }
            return best;
        }

        private static String describe(Piece p) {
            return "program header #" + p.index() + " (PT_LOAD p_paddr=" + ElfCodec.hex(p.ph().paddr())
                    + " p_offset=" + ElfCodec.hex(p.ph().offset()) + " p_filesz=" + ElfCodec.hex(p.ph().filesz())
                    + ")";
        }
    }
}
