package io.guestdump.core.source.migration;

import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.arch.api.MigrationInput;
import io.guestdump.arch.api.MigrationDevice;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;

/**
 * One QEMU migration stream ({@code savevm.c}, format version 3) read from {@code [start, end)} of a file: the
 * machine type, every RAMBlock with a page index, and the device sections asked for, decoded field by field.
 *
 * <pre>
 * u32 QEMU_VM_FILE_MAGIC "QEVM" · u32 version 3
 * [u8 QEMU_VM_CONFIGURATION · u32 len · machine type · subsections (u8 0x05 · u8 len · name · u32 version · fields)]
 * sections until u8 QEMU_VM_EOF:
 *   u8 QEMU_VM_SECTION_START | QEMU_VM_SECTION_FULL · u32 section id · u8 len · id string · u32 instance · u32 version
 *   u8 QEMU_VM_SECTION_PART  | QEMU_VM_SECTION_END  · u32 section id
 *   data · [u8 QEMU_VM_SECTION_FOOTER · u32 section id]
 * [u8 QEMU_VM_VMDESCRIPTION · u32 len · JSON]
 * </pre>
 *
 * The "ram" section's data is records {@code u64 (offset | flags)} until {@code RAM_SAVE_FLAG_EOS}:
 * {@code MEM_SIZE} (then per RAMBlock: u8 len · id string · u64 used length, until the total is reached),
 * {@code ZERO} (u8 fill byte) and {@code PAGE} (a target page of bytes), each followed by the RAMBlock's id string
 * unless {@code CONTINUE} says "the previous block". XBZRLE, compressed pages, RDMA hooks and multifd are refused.
 * Device sections have no length: their bytes are walked with the stream's own JSON description (read first, from
 * the end of the file).
 */
public final class MigrationStream {
    /** {@code QEMU_VM_FILE_MAGIC}. */
    public static final int QEMU_VM_FILE_MAGIC = 0x5145564d;
    /** {@code QEMU_VM_FILE_VERSION}. */
    static final int QEMU_VM_FILE_VERSION = 3;

    static final int QEMU_VM_EOF = 0x00;
    static final int QEMU_VM_SECTION_START = 0x01;
    static final int QEMU_VM_SECTION_PART = 0x02;
    static final int QEMU_VM_SECTION_END = 0x03;
    static final int QEMU_VM_SECTION_FULL = 0x04;
    static final int QEMU_VM_SUBSECTION = 0x05;
    static final int QEMU_VM_VMDESCRIPTION = 0x06;
    static final int QEMU_VM_CONFIGURATION = 0x07;
    static final int QEMU_VM_COMMAND = 0x08;
    static final int QEMU_VM_SECTION_FOOTER = 0x7e;

    static final int RAM_SAVE_FLAG_FULL = 0x01;
    static final int RAM_SAVE_FLAG_ZERO = 0x02;
    static final int RAM_SAVE_FLAG_MEM_SIZE = 0x04;
    static final int RAM_SAVE_FLAG_PAGE = 0x08;
    static final int RAM_SAVE_FLAG_EOS = 0x10;
    static final int RAM_SAVE_FLAG_CONTINUE = 0x20;
    static final int RAM_SAVE_FLAG_XBZRLE = 0x40;
    static final int RAM_SAVE_FLAG_HOOK = 0x80;
    static final int RAM_SAVE_FLAG_COMPRESS_PAGE = 0x100;
    /** The flag bits: below the smallest target page QEMU supports (1 KiB). */
    static final long RAM_FLAG_MASK = 0x3ff;

    /** The RAM section's id string. */
    static final String RAM_SECTION = "ram";
    /** The largest JSON description read. */
    static final long MAX_VMDESC = 64L << 20;
    /** The largest page index kept (8 bytes per target page: 128 GiB of 4 KiB pages). */
    static final long MAX_INDEX_BYTES = 256L << 20;
    /** Device fields kept for decoding may not exceed this in all (CPU sections hold a few KiB). */
    static final long MAX_KEPT_BYTES = 64L << 20;

    private final String label;
    private String machineType;
    private int pageShift = -1;
    private final Map<String, RamIndex> blocks = new LinkedHashMap<>();
    private final List<MigrationDevice> devices = new ArrayList<>();
    /** The subsection versions of the kept device section being read, else null. */
    private Map<String, Long> subsectionVersions;
    private final List<String> sections = new ArrayList<>();
    private long keptBytes;

    private MigrationStream(String label) {
        this.label = label;
    }

    /** The machine type the configuration section names (as {@code -M} names it, with version), or null. */
    public String machineType() {
        return machineType;
    }

    /** The target page size. */
    public long pageSize() {
        return 1L << pageShift;
    }

    /** RAMBlock id string to used length, in stream order. */
    public Map<String, Long> blockLengths() {
        Map<String, Long> out = new LinkedHashMap<>();
        blocks.forEach((k, v) -> out.put(k, v.usedLength()));
        return out;
    }

    /** The bytes of a RAMBlock, read through the page index from the file. */
    public io.guestdump.memory.BlockData block(String name) {
        return blocks.get(name);
    }

    /** The device sections kept, in stream order. */
    public List<MigrationDevice> devices() {
        return devices;
    }

    /** Every section's id string, in stream order, for messages. */
    public List<String> sections() {
        return sections;
    }

    /**
     * Reads the stream in {@code [start, end)} of {@code channel}.
     *
     * @param keep the device sections whose fields are kept (by id string); the others are skipped
     */
    public static MigrationStream read(FileChannel channel, long start, long end, String label, Set<String> keep,
            Map<String, BiConsumer<String, MigrationInput>> iterative) {
        MigrationStream s = new MigrationStream(label);
        s.iterative = iterative;
        long descAt = vmdescPosition(channel, start, end, label);
        VmDescription desc = null;
        if (descAt >= 0) {
            StreamInput in = new StreamInput(channel, descAt + 5, end, label);
            desc = VmDescription.parse(new String(in.bytes(end - descAt - 5, "the JSON description"),
                    StandardCharsets.UTF_8), label);
        }
        StreamInput in = new StreamInput(channel, start, descAt >= 0 ? descAt : end, label);
        if (desc != null) {
            long ps = desc.pageSize();
            if (ps != 0 && (Long.bitCount(ps) != 1 || ps < 1024 || ps > 65536)) {
                throw new InvalidInputException(label + ": the JSON description's page_size is " + ps
                        + "; QEMU's target pages are 1 KiB to 64 KiB");
            }
            s.pageSizeHint = ps;
            s.hasDescription = true;
        }
        s.parse(in, desc, keep);
        for (RamIndex r : s.blocks.values()) {
            r.attach(channel, label);
        }
        return s;
    }

    /**
     * Where {@code QEMU_VM_VMDESCRIPTION} is: the last 0x06 byte of the file (JSON text holds none), followed by a
     * length that reaches exactly the end and a '{'. -1 when there is none (QEMU suppresses it for some machines).
     */
    static long vmdescPosition(FileChannel channel, long start, long end, String label) {
        ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
        long at = end;
        long floor = Math.max(start, end - MAX_VMDESC - 5);
        try {
            while (at > floor) {
                int n = (int) Math.min(buf.capacity(), at - floor);
                buf.clear().limit(n);
                long from = at - n;
                while (buf.hasRemaining()) {
                    if (channel.read(buf, from + buf.position()) < 0) {
                        return -1;
                    }
                }
                for (int i = n - 1; i >= 0; i--) {
                    if (buf.get(i) == QEMU_VM_VMDESCRIPTION) {
                        long p = from + i;
                        if (end - p < 6) {
                            return -1;
                        }
                        ByteBuffer h = ByteBuffer.allocate(6);
                        while (h.hasRemaining()) {
                            if (channel.read(h, p + h.position()) < 0) {
                                return -1;
                            }
                        }
                        long len = Integer.toUnsignedLong(h.getInt(1));
                        return p + 5 + len == end && h.get(5) == '{' ? p : -1;
                    }
                }
                at = from;
            }
        } catch (IOException e) {
            throw new UncheckedIOException(label + ": " + e.getMessage(), e);
        }
        return -1;
    }

    private void parse(StreamInput in, VmDescription desc, Set<String> keep) {
        long magic = in.u32("the magic");
        if (magic != QEMU_VM_FILE_MAGIC) {
            throw new InvalidInputException(label + ": not a QEMU migration stream: magic 0x" + Long.toHexString(magic)
                    + " at byte " + (in.position() - 4) + ", expected 0x5145564d (\"QEVM\")");
        }
        long version = in.u32("the version");
        if (version != QEMU_VM_FILE_VERSION) {
            throw new InvalidInputException(label + ": migration stream version " + version + "; only version "
                    + QEMU_VM_FILE_VERSION + " (QEMU 2.x and later) is read");
        }
        Map<Long, String> ids = new HashMap<>();
        while (true) {
            long at = in.position();
            int type = in.u8("a section type");
            switch (type) {
                case QEMU_VM_EOF -> {
                    finish(in, desc);
                    return;
                }
                case QEMU_VM_CONFIGURATION -> configuration(in);
                case QEMU_VM_SECTION_START, QEMU_VM_SECTION_FULL -> {
                    long id = in.u32("a section id");
                    String idstr = in.shortString("a section id string");
                    long instance = in.u32("the instance id of " + idstr);
                    long sectionVersion = in.u32("the version of " + idstr);
                    ids.put(id, idstr);
                    sections.add(idstr + "/" + instance);
                    if (idstr.equals(RAM_SECTION)) {
                        ram(in);
                    } else if (iterative.containsKey(idstr)) {
                        iterative.get(idstr).accept(idstr, in);
                    } else if (type == QEMU_VM_SECTION_START) {
                        throw new InvalidInputException(label + ": iterative section " + idstr + " (byte " + at
                                + ") is not supported; no loaded plugin reads it");
                    } else {
                        fullSection(in, desc, id, idstr, instance, sectionVersion, keep.contains(idstr), at);
                        continue;
                    }
                    footer(in, id);
                }
                case QEMU_VM_SECTION_PART, QEMU_VM_SECTION_END -> {
                    long id = in.u32("a section id");
                    String idstr = ids.get(id);
                    if (idstr == null) {
                        throw new InvalidInputException(label + ": section type " + type + " at byte " + at
                                + " continues section id " + id + ", which was never started");
                    }
                    if (idstr.equals(RAM_SECTION)) {
                        ram(in);
                    } else if (iterative.containsKey(idstr)) {
                        iterative.get(idstr).accept(idstr, in);
                    } else {
                        throw new InvalidInputException(label + ": iterative section " + idstr + " (byte " + at
                                + ") is not supported; no loaded plugin reads it");
                    }
                    footer(in, id);
                }
                case QEMU_VM_COMMAND -> throw new InvalidInputException(label + ": a QEMU_VM_COMMAND at byte " + at
                        + ": postcopy and return-path streams are not read; save with a plain precopy migration");
                default -> throw new InvalidInputException(label + ": unknown section type 0x"
                        + Integer.toHexString(type) + " at byte " + at + "; the stream is corrupt or from a QEMU "
                        + "newer than this reader");
            }
        }
    }

    private void finish(StreamInput in, VmDescription desc) {
        if (!in.atEnd()) {
            throw new InvalidInputException(label + ": " + in.remaining() + " bytes after QEMU_VM_EOF at byte "
                    + (in.position() - 1) + " (after section " + (sections.isEmpty() ? "none" : sections.get(
                    sections.size() - 1)) + ") that are not the stream's JSON description");
        }
        if (pageShift < 0) {
            throw new InvalidInputException(label + ": the stream has no \"ram\" section; it holds no guest memory");
        }
    }

    /** The configuration section: the machine type and the subsections QEMU 7.2 may add. */
    private void configuration(StreamInput in) {
        long len = in.u32("the machine type length");
        if (len > 256) {
            throw new InvalidInputException(label + ": machine type name of " + len + " bytes at byte "
                    + (in.position() - 4) + "; QEMU's are short");
        }
        machineType = new String(in.bytes(len, "the machine type"), StandardCharsets.ISO_8859_1);
        while (in.peek() == QEMU_VM_SUBSECTION) {
            in.u8("a subsection");
            String name = in.shortString("a configuration subsection name");
            in.u32("the version of " + name);
            switch (name) {
                case "configuration/target-page-bits" -> {
                    long bits = in.u32("target-page-bits");
                    if (bits < 10 || bits > 30) {
                        throw new InvalidInputException(label + ": target-page-bits " + bits + "; QEMU's are 10 to "
                                + "16");
                    }
                    pageShift = (int) bits;
                }
                case "configuration/uuid" -> in.skip(16, "the uuid");
                case "configuration/capabilities" -> {
                    long n = in.u32("the capability count");
                    for (long i = 0; i < n; i++) {
                        in.shortString("a capability name");
                    }
                }
                default -> throw new InvalidInputException(label + ": unknown configuration subsection " + name
                        + " at byte " + in.position());
            }
        }
    }

    /**
     * A device section and its footer. A section the JSON describes wrongly (QEMU 7.2 describes an array of pointers
     * by its first element only, which misdescribes one with null and non-null elements) is stepped over by its
     * footer, when it is not one whose fields are kept and the stream has footers: the first {@code 0x7e} and section
     * id followed by a section type or the end.
     */
    private void fullSection(StreamInput in, VmDescription desc, long id, String idstr, long instance, long version,
            boolean keepIt, long at) {
        long data = in.position();
        InvalidInputException walk;
        try {
            device(in, desc, idstr, instance, version, keepIt, at);
            if (!footers || in.peek() == QEMU_VM_SECTION_FOOTER) {
                footer(in, id);
                return;
            }
            walk = new InvalidInputException(label + ": section " + idstr + " at byte " + at + " did not end at its "
                    + "footer (byte " + in.position() + ")");
        } catch (InvalidInputException e) {
            walk = e;
        }
        if (keepIt || !footers || desc == null) {
            throw walk;
        }
        in.seek(data);
        while (true) {
            int b = in.u8("the footer of section " + idstr + " (its JSON description did not fit: " + walk.getMessage()
                    + ")");
            if (b != QEMU_VM_SECTION_FOOTER || in.remaining() < 4) {
                continue;
            }
            long back = in.position();
            if (in.u32("a section id") == id) {
                int next = in.peek();
                if (next == QEMU_VM_EOF || next == QEMU_VM_SECTION_FULL || next == QEMU_VM_SECTION_START
                        || next == QEMU_VM_SECTION_PART || next == QEMU_VM_SECTION_END) {
                    skippedByFooter.add(idstr + "/" + instance);
                    return;
                }
            }
            in.seek(back);
        }
    }

    /** Sections stepped over by their footer because their JSON description did not fit. */
    public List<String> skippedByFooter() {
        return skippedByFooter;
    }

    private final List<String> skippedByFooter = new ArrayList<>();
    /** Whether a section footer was seen (QEMU writes them for every machine type of the last decade). */
    private boolean footers;

    private void footer(StreamInput in, long id) {
        if (in.peek() == QEMU_VM_SECTION_FOOTER) {
            footers = true;
            long at = in.position();
            in.u8("a section footer");
            long got = in.u32("the section footer's id");
            if (got != id) {
                throw new InvalidInputException(label + ": section footer at byte " + at + " names section " + got
                        + ", expected " + id + "; the stream is corrupt");
            }
        }
    }

    /** The RAM section's records up to {@code RAM_SAVE_FLAG_EOS}. */
    private RamIndex last;

    private void ram(StreamInput in) {
        while (true) {
            long at = in.position();
            long word = in.u64("a RAM record");
            int flags = (int) (word & RAM_FLAG_MASK);
            long addr = word & ~RAM_FLAG_MASK;
            if (flags == RAM_SAVE_FLAG_EOS) {
                return;
            }
            if (flags == RAM_SAVE_FLAG_MEM_SIZE) {
                memSize(in, addr, at);
                continue;
            }
            int kind = flags & ~RAM_SAVE_FLAG_CONTINUE;
            if ((flags & (RAM_SAVE_FLAG_XBZRLE | RAM_SAVE_FLAG_COMPRESS_PAGE | RAM_SAVE_FLAG_HOOK)) != 0) {
                throw new InvalidInputException(label + ": RAM record with flags 0x" + Integer.toHexString(flags)
                        + " at byte " + at + ": XBZRLE, compressed pages and RDMA are not read; save without the "
                        + "xbzrle and compress migration capabilities");
            }
            if (kind != RAM_SAVE_FLAG_ZERO && kind != RAM_SAVE_FLAG_PAGE && kind != RAM_SAVE_FLAG_FULL) {
                throw new InvalidInputException(label + ": RAM record with unknown flags 0x"
                        + Integer.toHexString(flags) + " at byte " + at + "; the stream is corrupt");
            }
            if (pageShift < 0) {
                throw new InvalidInputException(label + ": a RAM page at byte " + at + " before the RAM size");
            }
            RamIndex block;
            if ((flags & RAM_SAVE_FLAG_CONTINUE) != 0) {
                block = last;
                if (block == null) {
                    throw new InvalidInputException(label + ": RAM record at byte " + at + " continues a block but "
                            + "none came before");
                }
            } else {
                String name = in.shortString("a RAMBlock id string");
                block = blocks.get(name);
                if (block == null) {
                    throw new InvalidInputException(label + ": RAM record at byte " + at + " names RAMBlock \"" + name
                            + "\", which the RAM size record did not list (" + blocks.keySet() + ")");
                }
            }
            last = block;
            if (Long.compareUnsigned(addr, block.usedLength()) >= 0 || (addr & (pageSize() - 1)) != 0) {
                throw new InvalidInputException(label + ": RAM record at byte " + at + " for offset 0x"
                        + Long.toHexString(addr) + " of RAMBlock " + block.name() + ", which has 0x"
                        + Long.toHexString(block.usedLength()) + " bytes of " + pageSize() + "-byte pages");
            }
            long page = addr >>> pageShift;
            boolean allocated;
            if (kind == RAM_SAVE_FLAG_PAGE) {
                allocated = block.page(page, in.position());
                in.skip(pageSize(), "a RAM page");
            } else {
                allocated = block.fill(page, in.u8("a fill byte"));
            }
            if (allocated) {
                indexAllocated += RamIndex.CHUNK_BYTES;
                if (indexAllocated > INDEX_PER_STREAM_BYTE * in.position() + INDEX_ALLOWANCE) {
                    throw new InvalidInputException(label + ": RAM records up to byte " + in.position() + " scatter "
                            + "non-zero fill pages over " + (indexAllocated >> 10) + " KiB of page index; QEMU "
                            + "sends zero pages with fill byte 0 and data pages in full, so the stream is corrupt");
                }
            }
        }
    }

    private void memSize(StreamInput in, long total, long at) {
        if (!blocks.isEmpty()) {
            throw new InvalidInputException(label + ": a second RAM size record at byte " + at);
        }
        if (pageShift < 0) {
            if (pageSizeHint <= 0) {
                throw new InvalidInputException(label + ": the stream names no target page size (no "
                        + "configuration/target-page-bits, and " + (hasDescription ? "no page_size in its JSON "
                        + "description)" : "no JSON description at its end: is the file truncated?)"));
            }
            pageShift = Long.numberOfTrailingZeros(pageSizeHint);
        }
        long left = total;
        long indexBytes = 0;
        while (left > 0) {
            String name = in.shortString("a RAMBlock id string");
            long used = in.u64("the used length of RAMBlock " + name);
            if (Long.compareUnsigned(used, left) > 0 || used == 0) {
                throw new InvalidInputException(label + ": RAMBlock " + name + " has used length 0x"
                        + Long.toHexString(used) + ", more than the 0x" + Long.toHexString(left) + " bytes left of the "
                        + "total 0x" + Long.toHexString(total) + " the RAM size record at byte " + at + " gives");
            }
            if (blocks.containsKey(name)) {
                throw new InvalidInputException(label + ": RAMBlock " + name + " listed twice in the RAM size record "
                        + "at byte " + at);
            }
            indexBytes += RamIndex.pages(used, pageShift) * Long.BYTES;
            if (indexBytes > MAX_INDEX_BYTES) {
                throw new InvalidInputException(label + ": the RAM size record at byte " + at + " lists more than "
                        + (MAX_INDEX_BYTES / Long.BYTES << pageShift >> 30) + " GiB of RAM; this reader indexes "
                        + "at most that much");
            }
            blocks.put(name, new RamIndex(name, used, pageShift));
            left -= used;
        }
    }

    private long pageSizeHint;
    /** Skippers of the plugins' iterative sections, by id string. */
    private Map<String, BiConsumer<String, MigrationInput>> iterative = Map.of();
    private boolean hasDescription;
    /** Heap bytes of page index allocated so far. */
    private long indexAllocated;
    /**
     * Page index allowed per stream byte read, plus a fixed allowance: a data page costs 4 KiB of stream per 8 bytes
     * of index and zero pages cost none, so only a corrupt stream (scattered non-zero fill bytes) comes near.
     */
    static final long INDEX_PER_STREAM_BYTE = 16;
    static final long INDEX_ALLOWANCE = 4L << 20;

    /** A device section: its fields by the JSON description, kept or skipped. */
    private void device(StreamInput in, VmDescription desc, String idstr, long instance, long version, boolean keepIt,
            long at) {
        if (desc == null) {
            throw new InvalidInputException(label + ": device section " + idstr + " at byte " + at + " cannot be "
                    + "read: the stream has no JSON description (QEMU_VM_VMDESCRIPTION) at its end");
        }
        VmDescription.Device d = desc.take(idstr, instance);
        if (d == null) {
            throw new InvalidInputException(label + ": device section " + idstr + " instance " + instance
                    + " at byte " + at + " is not in the stream's JSON description");
        }
        Map<String, byte[]> fields = keepIt ? new LinkedHashMap<>() : null;
        subsectionVersions = keepIt ? new LinkedHashMap<>() : null;
        vmsd(in, d.vmsd(), "", fields, idstr, null);
        if (keepIt) {
            devices.add(new MigrationDevice(idstr, (int) Math.min(instance, Integer.MAX_VALUE), (int) version,
                    fields, subsectionVersions));
        }
    }

    /**
     * Reads the fields of one description. A subsection's fields are kept under their names and also as
     * {@code <subsection>:<name>} ({@code scope}), as subsections may repeat a field name ({@code env.vsr}).
     */
    private void vmsd(StreamInput in, VmDescription.Vmsd vmsd, String prefix, Map<String, byte[]> out, String where,
            String scope) {
        for (VmDescription.Field f : vmsd.fields()) {
            String base = prefix + f.name() + (f.index() >= 0 ? "[" + f.index() + "]" : "");
            if (f.struct() != null && out != null) {
                for (long i = 0; i < f.count(); i++) {
                    long start = in.position();
                    String name = base + (f.count() > 1 ? "[" + i + "]" : "") + ".";
                    vmsd(in, f.struct(), name, out, where, scope);
                    if (in.position() - start != f.size()) {
                        throw new InvalidInputException(label + ": field " + base + " of section " + where + " took "
                                + (in.position() - start) + " bytes at byte " + start + "; the JSON description says "
                                + f.size());
                    }
                }
                continue;
            }
            long total;
            try {
                total = Math.multiplyExact(f.size(), f.count());
            } catch (ArithmeticException e) {
                total = Long.MAX_VALUE;
            }
            if (out != null) {
                keptBytes += total;
                if (keptBytes > MAX_KEPT_BYTES) {
                    throw new InvalidInputException(label + ": section " + where + " keeps more than "
                            + (MAX_KEPT_BYTES >> 20) + " MiB of fields");
                }
                byte[] bytes = in.bytes(total, "field " + base + " of section " + where);
                out.put(unique(out, base), bytes);
                if (scope != null) {
                    out.put(unique(out, scope + ":" + base), bytes);
                }
            } else {
                in.skip(total, "field " + base + " of section " + where);
            }
        }
        for (VmDescription.Vmsd sub : vmsd.subsections()) {
            long at = in.position();
            int b = in.u8("a subsection of " + where);
            if (b != QEMU_VM_SUBSECTION) {
                throw new InvalidInputException(label + ": byte " + at + " is 0x" + Integer.toHexString(b)
                        + " where the JSON description has subsection " + sub.name() + " of section " + where);
            }
            String name = in.shortString("a subsection name");
            if (!name.equals(sub.name())) {
                throw new InvalidInputException(label + ": subsection " + name + " at byte " + at + " where the JSON "
                        + "description has " + sub.name());
            }
            long subVersion = in.u32("the version of subsection " + name);
            if (subsectionVersions != null) {
                subsectionVersions.putIfAbsent(name, subVersion);
            }
            vmsd(in, sub, prefix, out, where, sub.name());
        }
    }

    private static String unique(Map<String, byte[]> out, String name) {
        if (!out.containsKey(name)) {
            return name;
        }
        int i = 2;
        while (out.containsKey(name + "#" + i)) {
            i++;
        }
        return name + "#" + i;
    }
}
