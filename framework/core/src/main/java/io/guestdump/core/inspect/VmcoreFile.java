package io.guestdump.core.inspect;

import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.elf.ElfClass;
import io.guestdump.elf.ElfCodec;
import io.guestdump.elf.ElfConstants;
import io.guestdump.elf.ElfHeader;
import io.guestdump.elf.ElfType;
import io.guestdump.elf.Note;
import io.guestdump.elf.NoteEncoder;
import io.guestdump.elf.ProgramHeader;
import io.guestdump.elf.SectionHeader;
import io.guestdump.elf.SegmentType;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * An ELF vmcore opened for reading and checked field by field. Every size read from the file is checked against
 * the file's length before anything is allocated for it, so a hostile file costs at most what its length
 * justifies. Reads QEMU 7.2's layout too (section headers first, {@code e_ehsize} 8).
 */
public final class VmcoreFile implements Closeable {
    /** Notes larger than this are refused: no vmcore has megabytes of CPU notes. */
    public static final long MAX_NOTE_BYTES = 64L << 20;
    /** The program header table is read in pieces of at most this many bytes. */
    private static final int PHDR_READ_BYTES = 1 << 20;

    private final Path path;
    private final FileChannel channel;
    private final long size;
    private final ElfHeader header;
    private final long phnum;
    private final List<ProgramHeader> programHeaders;
    private final List<Note> notes;
    private final List<String> warnings;

    private VmcoreFile(Path path, FileChannel channel, long size, ElfHeader header, long phnum,
            List<ProgramHeader> programHeaders, List<Note> notes, List<String> warnings) {
        this.path = path;
        this.channel = channel;
        this.size = size;
        this.header = header;
        this.phnum = phnum;
        this.programHeaders = List.copyOf(programHeaders);
        this.notes = List.copyOf(notes);
        this.warnings = List.copyOf(warnings);
    }

    /** Opens and validates; a defect is an {@link InvalidInputException} naming the field and value. */
    public static VmcoreFile open(Path path) {
        io.guestdump.core.source.SourceFiles.requireRegular(path, "vmcore");
        FileChannel ch;
        try {
            ch = FileChannel.open(path, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new InvalidInputException(path + " does not exist");
        } catch (IOException e) {
            throw new InvalidInputException("cannot open " + path + ": " + e.getMessage(), e);
        }
        try {
            return read(path, ch);
        } catch (IOException e) {
            close(ch);
            throw new InvalidInputException(path + ": cannot read: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            close(ch);
            if (e instanceof InvalidInputException) {
                throw e;
            }
            throw new InvalidInputException(path + ": " + e.getMessage(), e);
        }
    }

    private static VmcoreFile read(Path path, FileChannel ch) throws IOException {
        String p = path.toString();
        long size = ch.size();
        List<String> warnings = new ArrayList<>();
        ByteBuffer head = ByteBuffer.allocate((int) Math.min(size, 64));
        readFully(ch, head, 0);
        head.flip();
        ElfHeader h;
        try {
            h = ElfCodec.readHeader(head);
        } catch (IllegalArgumentException e) {
            throw new InvalidInputException(p + ": " + e.getMessage());
        }
        ElfClass c = h.elfClass();
        if (h.type() != ElfType.ET_CORE) {
            throw new InvalidInputException(p + ": e_type=" + h.type() + " is not ET_CORE (4); not a core file");
        }
        if (h.version() != ElfConstants.EV_CURRENT) {
            throw new InvalidInputException(p + ": e_version=" + h.version() + " is not EV_CURRENT (1)");
        }
        if (h.ehsize() != c.ehdrSize()) {
            warnings.add("e_ehsize=" + h.ehsize() + " should be " + c.ehdrSize()
                    + (h.ehsize() == 8 ? " (a QEMU 7.x bug)" : ""));
        }
        if (h.phentsize() != c.phdrSize()) {
            throw new InvalidInputException(p + ": e_phentsize=" + h.phentsize() + " is not " + c.phdrSize()
                    + " for " + c);
        }
        long phnum = h.phnum();
        if (phnum == ElfConstants.PN_XNUM) {
            SectionHeader s0 = section0(p, ch, size, h);
            phnum = s0.info();
            if (phnum < ElfConstants.PN_XNUM) {
                warnings.add("e_phnum is PN_XNUM but section 0 sh_info=" + phnum);
            }
        }
        if (phnum == 0) {
            throw new InvalidInputException(p + ": e_phnum=0; a vmcore has at least a PT_NOTE and a PT_LOAD");
        }
        long tableBytes = Math.multiplyExact(phnum, (long) c.phdrSize());
        if (Long.compareUnsigned(h.phoff(), size) > 0 || tableBytes > size - h.phoff()) {
            throw new InvalidInputException(p + ": program header table at e_phoff=" + ElfCodec.hex(h.phoff())
                    + " with " + phnum + " entries (" + tableBytes + " bytes) runs past the end of the file ("
                    + size + " bytes); the file is truncated or corrupt");
        }
        List<ProgramHeader> phdrs = new ArrayList<>((int) Math.min(phnum, 1 << 16));
        // a whole number of entries per read, so that no entry straddles two reads
        int perRead = (int) Math.min(tableBytes, (long) (PHDR_READ_BYTES / c.phdrSize()) * c.phdrSize());
        ByteBuffer buf = ByteBuffer.allocate(perRead).order(h.data().order());
        long pos = h.phoff();
        long left = tableBytes;
        while (left > 0) {
            buf.clear();
            buf.limit((int) Math.min(buf.capacity(), left));
            readFully(ch, buf, pos);
            buf.flip();
            while (buf.remaining() >= c.phdrSize()) {
                phdrs.add(ElfCodec.readProgramHeader(buf, c));
            }
            pos += buf.limit();
            left -= buf.limit();
        }
        ByteArrayOutputStream noteBytes = new ByteArrayOutputStream();
        for (int i = 0; i < phdrs.size(); i++) {
            ProgramHeader ph = phdrs.get(i);
            String which = p + ": program header #" + i + " (" + typeName(ph.type()) + ")";
            if (ph.type() != SegmentType.PT_LOAD && ph.type() != SegmentType.PT_NOTE) {
                continue;
            }
            if (ph.filesz() != 0 && (Long.compareUnsigned(ph.offset(), size) > 0
                    || Long.compareUnsigned(ph.filesz(), size - ph.offset()) > 0)) {
                throw new InvalidInputException(which + ": p_offset=" + ElfCodec.hex(ph.offset()) + " p_filesz="
                        + ElfCodec.hex(ph.filesz()) + " runs past the end of the file (" + size
                        + " bytes); the file is truncated or corrupt");
            }
            if (Long.compareUnsigned(ph.filesz(), ph.memsz()) > 0) {
                throw new InvalidInputException(which + ": p_filesz=" + ElfCodec.hex(ph.filesz())
                        + " exceeds p_memsz=" + ElfCodec.hex(ph.memsz()));
            }
            if (ph.type() == SegmentType.PT_NOTE) {
                if (noteBytes.size() + ph.filesz() > MAX_NOTE_BYTES) {
                    throw new InvalidInputException(which + ": p_filesz=" + ElfCodec.hex(ph.filesz())
                            + " of notes is more than the " + MAX_NOTE_BYTES + " bytes a vmcore can sensibly hold");
                }
                ByteBuffer nb = ByteBuffer.allocate((int) ph.filesz());
                readFully(ch, nb, ph.offset());
                noteBytes.write(nb.array());
            } else if (Long.compareUnsigned(ph.paddr() + ph.memsz() - 1, ph.paddr()) < 0 && ph.memsz() != 0) {
                throw new InvalidInputException(which + ": p_paddr=" + ElfCodec.hex(ph.paddr()) + " + p_memsz="
                        + ElfCodec.hex(ph.memsz()) + " overflows 64 bits");
            }
        }
        List<Note> notes;
        try {
            notes = NoteEncoder.decode(noteBytes.toByteArray(), h.data());
        } catch (IllegalArgumentException e) {
            throw new InvalidInputException(p + ": malformed PT_NOTE: " + e.getMessage());
        }
        return new VmcoreFile(path, ch, size, h, phnum, phdrs, notes, warnings);
    }

    private static SectionHeader section0(String p, FileChannel ch, long size, ElfHeader h) throws IOException {
        ElfClass c = h.elfClass();
        if (h.shoff() == 0 || h.shentsize() != c.shdrSize()) {
            throw new InvalidInputException(p + ": e_phnum is PN_XNUM (0xffff) but e_shoff="
                    + ElfCodec.hex(h.shoff()) + " e_shentsize=" + h.shentsize()
                    + " give no section header 0 to hold the real count");
        }
        if (Long.compareUnsigned(h.shoff(), size) > 0 || c.shdrSize() > size - h.shoff()) {
            throw new InvalidInputException(p + ": section header 0 at e_shoff=" + ElfCodec.hex(h.shoff())
                    + " lies past the end of the file (" + size + " bytes)");
        }
        ByteBuffer b = ByteBuffer.allocate(c.shdrSize()).order(h.data().order());
        readFully(ch, b, h.shoff());
        b.flip();
        return ElfCodec.readSectionHeader(b, c);
    }

    /** Fills {@code dst} from the channel at {@code pos}; the file ending first is an {@link EOFException}. */
    public static void readFully(FileChannel ch, ByteBuffer dst, long pos) throws IOException {
        long at = pos;
        while (dst.hasRemaining()) {
            int n = ch.read(dst, at);
            if (n < 0) {
                throw new EOFException("file ends at byte " + at);
            }
            at += n;
        }
    }

    private static String typeName(int type) {
        return switch (type) {
            case SegmentType.PT_LOAD -> "PT_LOAD";
            case SegmentType.PT_NOTE -> "PT_NOTE";
            case SegmentType.PT_NULL -> "PT_NULL";
            default -> "p_type " + ElfCodec.hex(Integer.toUnsignedLong(type));
        };
    }

    private static void close(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // already failing
        }
    }

    /** The file's path. */
    public Path path() {
        return path;
    }

    /** The open file. */
    public FileChannel channel() {
        return channel;
    }

    /** Bytes in the file. */
    public long size() {
        return size;
    }

    /** The ELF header as read. */
    public ElfHeader header() {
        return header;
    }

    /** The real program header count (from section 0 when PN_XNUM). */
    public long phnum() {
        return phnum;
    }

    /** Every program header, in file order. */
    public List<ProgramHeader> programHeaders() {
        return programHeaders;
    }

    /** The PT_LOADs, in file order. */
    public List<ProgramHeader> loads() {
        return programHeaders.stream().filter(ph -> ph.type() == SegmentType.PT_LOAD).toList();
    }

    /** Every note of every PT_NOTE, in file order. */
    public List<Note> notes() {
        return notes;
    }

    /** Deviations that do not stop reading (QEMU's e_ehsize 8 and the like). */
    public List<String> warnings() {
        return warnings;
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
