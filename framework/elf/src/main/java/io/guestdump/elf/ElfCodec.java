package io.guestdump.elf;

import java.nio.ByteBuffer;

/**
 * Encodes and decodes the ELF header, program headers and section headers in either class and byte order.
 * The byte order is the buffer's; the class decides field widths. ELF32 encoders throw rather than truncate.
 */
public final class ElfCodec {
    private ElfCodec() {}

    // ---------------------------------------------------------------- ELF header

    /** Writes {@code ElfN_Ehdr} at the buffer's position. */
    public static void writeHeader(ByteBuffer out, ElfHeader h) {
        int start = out.position();
        ElfClass c = h.elfClass();
        out.put(ElfConstants.magic());
        out.put((byte) c.wire());
        out.put((byte) h.data().wire());
        out.put((byte) ElfConstants.EV_CURRENT);
        out.put((byte) ElfConstants.ELFOSABI_NONE);
        out.put(new byte[ElfConstants.EI_NIDENT - 8]);
        out.putShort((short) h.type());
        out.putShort((short) h.machine());
        putWord(out, "e_version", h.version());
        putAddr(out, c, "e_entry", h.entry());
        putAddr(out, c, "e_phoff", h.phoff());
        putAddr(out, c, "e_shoff", h.shoff());
        putWord(out, "e_flags", h.flags());
        out.putShort((short) h.ehsize());
        out.putShort((short) h.phentsize());
        out.putShort((short) h.phnum());
        out.putShort((short) h.shentsize());
        out.putShort((short) h.shnum());
        out.putShort((short) h.shstrndx());
        NoteEncoder.expectWritten(out, start, c.ehdrSize());
    }

    /**
     * Reads {@code ElfN_Ehdr}. The buffer must hold at least the identification bytes; class and byte order are
     * taken from them and the buffer's order is set accordingly.
     */
    public static ElfHeader readHeader(ByteBuffer in) {
        int start = in.position();
        if (in.remaining() < ElfConstants.EI_NIDENT) {
            throw new IllegalArgumentException("file too short for e_ident: " + in.remaining() + " bytes");
        }
        byte[] magic = ElfConstants.magic();
        for (int i = 0; i < magic.length; i++) {
            if (in.get(start + i) != magic[i]) {
                throw new IllegalArgumentException("not an ELF file: bad magic at byte " + i);
            }
        }
        ElfClass c = ElfClass.fromWire(in.get(start + 4) & 0xff);
        ElfData d = ElfData.fromWire(in.get(start + 5) & 0xff);
        if (in.remaining() < c.ehdrSize()) {
            throw new IllegalArgumentException("file too short for the " + c + " header: " + in.remaining()
                    + " bytes, " + c.ehdrSize() + " needed");
        }
        in.order(d.order());
        in.position(start + ElfConstants.EI_NIDENT);
        int type = Short.toUnsignedInt(in.getShort());
        int machine = Short.toUnsignedInt(in.getShort());
        long version = Integer.toUnsignedLong(in.getInt());
        long entry = getAddr(in, c);
        long phoff = getAddr(in, c);
        long shoff = getAddr(in, c);
        long flags = Integer.toUnsignedLong(in.getInt());
        int ehsize = Short.toUnsignedInt(in.getShort());
        int phentsize = Short.toUnsignedInt(in.getShort());
        int phnum = Short.toUnsignedInt(in.getShort());
        int shentsize = Short.toUnsignedInt(in.getShort());
        int shnum = Short.toUnsignedInt(in.getShort());
        int shstrndx = Short.toUnsignedInt(in.getShort());
        return new ElfHeader(c, d, type, machine, version, entry, phoff, shoff, flags, ehsize, phentsize, phnum,
                shentsize, shnum, shstrndx);
    }

    // ---------------------------------------------------------------- program headers

    /** Writes {@code ElfN_Phdr}; {@code p_flags} moves between the classes, hence the method pair. */
    public static void writeProgramHeader(ByteBuffer out, ElfClass c, ProgramHeader p) {
        int start = out.position();
        if (c == ElfClass.ELF64) {
            writeProgramHeader64(out, p);
        } else {
            writeProgramHeader32(out, p);
        }
        NoteEncoder.expectWritten(out, start, c.phdrSize());
    }

    private static void writeProgramHeader64(ByteBuffer out, ProgramHeader p) {
        putWord(out, "p_type", Integer.toUnsignedLong(p.type()));
        putWord(out, "p_flags", p.flags());
        out.putLong(p.offset());
        out.putLong(p.vaddr());
        out.putLong(p.paddr());
        out.putLong(p.filesz());
        out.putLong(p.memsz());
        out.putLong(p.align());
    }

    private static void writeProgramHeader32(ByteBuffer out, ProgramHeader p) {
        ElfClass c = ElfClass.ELF32;
        putWord(out, "p_type", Integer.toUnsignedLong(p.type()));
        putAddr(out, c, "p_offset", p.offset());
        putAddr(out, c, "p_vaddr", p.vaddr());
        putAddr(out, c, "p_paddr", p.paddr());
        putAddr(out, c, "p_filesz", p.filesz());
        putAddr(out, c, "p_memsz", p.memsz());
        putWord(out, "p_flags", p.flags());
        putAddr(out, c, "p_align", p.align());
    }

    /** Reads {@code ElfN_Phdr} at the buffer's position. */
    public static ProgramHeader readProgramHeader(ByteBuffer in, ElfClass c) {
        if (c == ElfClass.ELF64) {
            int type = in.getInt();
            long flags = Integer.toUnsignedLong(in.getInt());
            return new ProgramHeader(type, flags, in.getLong(), in.getLong(), in.getLong(), in.getLong(),
                    in.getLong(), in.getLong());
        }
        int type = in.getInt();
        long offset = getAddr(in, c);
        long vaddr = getAddr(in, c);
        long paddr = getAddr(in, c);
        long filesz = getAddr(in, c);
        long memsz = getAddr(in, c);
        long flags = Integer.toUnsignedLong(in.getInt());
        long align = getAddr(in, c);
        return new ProgramHeader(type, flags, offset, vaddr, paddr, filesz, memsz, align);
    }

    // ---------------------------------------------------------------- section headers

    /** Writes {@code ElfN_Shdr}. */
    public static void writeSectionHeader(ByteBuffer out, ElfClass c, SectionHeader s) {
        int start = out.position();
        putWord(out, "sh_name", s.name());
        putWord(out, "sh_type", Integer.toUnsignedLong(s.type()));
        putAddr(out, c, "sh_flags", s.flags());
        putAddr(out, c, "sh_addr", s.addr());
        putAddr(out, c, "sh_offset", s.offset());
        putAddr(out, c, "sh_size", s.size());
        putWord(out, "sh_link", s.link());
        putWord(out, "sh_info", s.info());
        putAddr(out, c, "sh_addralign", s.addralign());
        putAddr(out, c, "sh_entsize", s.entsize());
        NoteEncoder.expectWritten(out, start, c.shdrSize());
    }

    /** Reads {@code ElfN_Shdr} at the buffer's position. */
    public static SectionHeader readSectionHeader(ByteBuffer in, ElfClass c) {
        long name = Integer.toUnsignedLong(in.getInt());
        int type = in.getInt();
        long flags = getAddr(in, c);
        long addr = getAddr(in, c);
        long offset = getAddr(in, c);
        long size = getAddr(in, c);
        long link = Integer.toUnsignedLong(in.getInt());
        long info = Integer.toUnsignedLong(in.getInt());
        long addralign = getAddr(in, c);
        long entsize = getAddr(in, c);
        return new SectionHeader(name, type, flags, addr, offset, size, link, info, addralign, entsize);
    }

    // ---------------------------------------------------------------- fields

    private static void putWord(ByteBuffer out, String field, long value) {
        if ((value >>> 32) != 0) {
            throw new IllegalArgumentException(field + " " + hex(value) + " does not fit 32 bits");
        }
        out.putInt((int) value);
    }

    private static void putAddr(ByteBuffer out, ElfClass c, String field, long value) {
        if (c == ElfClass.ELF64) {
            out.putLong(value);
        } else {
            if (!c.fits(value)) {
                throw new IllegalArgumentException(field + " " + hex(value) + " does not fit ELFCLASS32; use elf64");
            }
            out.putInt((int) value);
        }
    }

    private static long getAddr(ByteBuffer in, ElfClass c) {
        return c == ElfClass.ELF64 ? in.getLong() : Integer.toUnsignedLong(in.getInt());
    }

    /** {@code 0x}-prefixed unsigned hex. */
    public static String hex(long value) {
        return "0x" + Long.toHexString(value);
    }
}
