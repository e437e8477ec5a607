package io.guestdump.core.vmcore;

import io.guestdump.arch.api.DumpTarget;
import io.guestdump.arch.api.UnsupportedGuestException;
import io.guestdump.core.paging.MappingTable;
import io.guestdump.elf.ElfClass;
import io.guestdump.elf.ElfCodec;
import io.guestdump.elf.ElfConstants;
import io.guestdump.elf.ElfHeader;
import io.guestdump.elf.ElfType;
import io.guestdump.elf.ProgramHeader;
import io.guestdump.elf.SectionHeader;
import io.guestdump.elf.SegmentType;
import io.guestdump.memory.GuestBlock;
import io.guestdump.memory.MemoryMapping;
import java.util.AbstractList;
import java.util.List;
import java.util.Optional;
import java.util.RandomAccess;

/**
 * Every offset of a vmcore, decided before the first byte is written (QEMU {@code dump_begin}, makedumpfile
 * {@code IMPLEMENTATION}):
 *
 * <pre>
 * 0                     ELF header                    e_ehsize = 52 | 64
 * phoff = e_ehsize      PT_NOTE, PT_LOAD × n          (1 + n) × e_phentsize
 * shoff (PN_XNUM only)  section header 0              sh_info = 1 + n
 * noteOffset            notes                         Σ encoded note sizes
 * memoryOffset          memory, block by block        Σ bytes of (blocks ∩ filter)
 * fileSize
 * </pre>
 *
 * Each PT_LOAD's {@code p_offset} is {@code memoryOffset} + the bytes of the blocks before the one holding its
 * {@code p_paddr} + the distance into that block; {@code p_filesz} stops at that block's end (gABI: the rest of
 * {@code p_memsz} reads as zeros). A mapping whose start no dumped block holds gets {@code p_offset} all ones and
 * {@code p_filesz} 0, as QEMU writes it.
 *
 * @param target         class, byte order, machine, page size
 * @param header         the ELF header
 * @param programHeaders PT_NOTE then the PT_LOADs (computed on access: see {@link #plan})
 * @param section0       section header 0 when PN_XNUM is in use
 * @param noteOffset     file offset of the notes
 * @param noteSize       bytes of the notes
 * @param memoryOffset   file offset of the first memory byte
 * @param blocks         the memory written, in file order
 * @param fileSize       the length of the finished file
 */
public record VmcoreLayout(
        DumpTarget target,
        ElfHeader header,
        List<ProgramHeader> programHeaders,
        Optional<SectionHeader> section0,
        long noteOffset,
        long noteSize,
        long memoryOffset,
        List<GuestBlock> blocks,
        long fileSize) {

    /**
     * Plans a vmcore.
     *
     * @param target   what the plugin decided
     * @param noteSize bytes of the encoded notes
     * @param mappings the PT_LOADs to write, in order (simple mode: one per dumped block)
     * @param blocks   the memory to store, ascending and disjoint (already filtered)
     */
    public static VmcoreLayout plan(DumpTarget target, long noteSize, List<MemoryMapping> mappings,
            List<GuestBlock> blocks) {
        ElfClass c = target.elfClass();
        long phnumReal = 1L + mappings.size();
        boolean xnum = phnumReal >= ElfConstants.PN_XNUM;
        long phoff = c.ehdrSize();
        long afterPhdrs = Math.addExact(phoff, Math.multiplyExact(phnumReal, c.phdrSize()));
        long shoff = xnum ? afterPhdrs : 0;
        long noteOffset = xnum ? Math.addExact(afterPhdrs, c.shdrSize()) : afterPhdrs;
        long memoryOffset = Math.addExact(noteOffset, noteSize);

        long[] blockStarts = new long[blocks.size()];
        long[] fileOffsets = new long[blocks.size()];
        long cursor = memoryOffset;
        for (int i = 0; i < blocks.size(); i++) {
            blockStarts[i] = blocks.get(i).range().start();
            fileOffsets[i] = cursor;
            cursor = Math.addExact(cursor, blocks.get(i).range().length());
        }
        long fileSize = cursor;

        List<GuestBlock> blockList = List.copyOf(blocks);
        ProgramHeader note = new ProgramHeader(SegmentType.PT_NOTE, 0, noteOffset, 0, 0, noteSize, noteSize, 0);
        List<ProgramHeader> phdrs = new LoadHeaders(note, frozen(mappings), blockList, blockStarts, fileOffsets,
                c == ElfClass.ELF64 ? -1L : 0xffff_ffffL);

        ElfHeader header = new ElfHeader(c, target.data(), ElfType.ET_CORE, target.machine(),
                ElfConstants.EV_CURRENT, 0, phoff, shoff, 0, c.ehdrSize(), c.phdrSize(),
                xnum ? ElfConstants.PN_XNUM : (int) phnumReal, xnum ? c.shdrSize() : 0, xnum ? 1 : 0,
                ElfConstants.SHN_UNDEF);
        Optional<SectionHeader> section0 = xnum
                ? Optional.of(SectionHeader.extendedNumbering(Math.min(phnumReal, 0xffff_ffffL)))
                : Optional.empty();
        VmcoreLayout layout = new VmcoreLayout(target, header, phdrs, section0, noteOffset,
                noteSize, memoryOffset, blockList, fileSize);
        if (c == ElfClass.ELF32) {
            layout.checkFitsElf32();
        }
        return layout;
    }

    /** The mappings as an immutable list; a {@link MappingTable} already is one (and copying it would not be small). */
    private static List<MemoryMapping> frozen(List<MemoryMapping> mappings) {
        return mappings instanceof MappingTable ? mappings : List.copyOf(mappings);
    }

    /**
     * PT_NOTE and one PT_LOAD per mapping, each computed when asked for: a page-by-page guest has a million
     * mappings, and the writer streams the headers anyway.
     */
    private static final class LoadHeaders extends AbstractList<ProgramHeader> implements RandomAccess {
        private final ProgramHeader note;
        private final List<MemoryMapping> mappings;
        private final List<GuestBlock> blocks;
        private final long[] blockStarts;
        private final long[] fileOffsets;
        private final long noOffset;

        LoadHeaders(ProgramHeader note, List<MemoryMapping> mappings, List<GuestBlock> blocks, long[] blockStarts,
                long[] fileOffsets, long noOffset) {
            this.note = note;
            this.mappings = mappings;
            this.blocks = blocks;
            this.blockStarts = blockStarts;
            this.fileOffsets = fileOffsets;
            this.noOffset = noOffset;
        }

        @Override
        public int size() {
            return 1 + mappings.size();
        }

        @Override
        public ProgramHeader get(int index) {
            if (index == 0) {
                return note;
            }
            MemoryMapping m = mappings.get(index - 1);
            int i = find(blocks, blockStarts, m.phys());
            long offset = noOffset;
            long filesz = 0;
            if (i >= 0) {
                GuestBlock b = blocks.get(i);
                offset = fileOffsets[i] + (m.phys() - b.range().start());
                filesz = Math.min(m.length(), b.range().end() - m.phys());
            }
            long vaddr = m.virt() == 0 ? m.phys() : m.virt();
            return new ProgramHeader(SegmentType.PT_LOAD, 0, offset, vaddr, m.phys(), filesz, m.length(), 0);
        }
    }

    /** The index of the block holding {@code address}, or -1. */
    private static int find(List<GuestBlock> blocks, long[] starts, long address) {
        int lo = 0;
        int hi = starts.length - 1;
        int best = -1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (Long.compareUnsigned(starts[mid], address) <= 0) {
                best = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return best >= 0 && blocks.get(best).range().contains(address) ? best : -1;
    }

    /** Bytes before the notes: header, program headers and, with PN_XNUM, section header 0. */
    public long headersSize() {
        return noteOffset;
    }

    private void checkFitsElf32() {
        ElfClass c = ElfClass.ELF32;
        check("file size", fileSize, "the vmcore would be larger than 4 GiB");
        for (int i = 1; i < programHeaders.size(); i++) {
            ProgramHeader p = programHeaders.get(i);
            String which = "PT_LOAD #" + i + " (p_paddr " + ElfCodec.hex(p.paddr()) + ")";
            check(which + " p_paddr", p.paddr(), null);
            check(which + " p_vaddr", p.vaddr(), null);
            check(which + " p_memsz", p.memsz(), null);
            check(which + " p_offset", p.offset(), null);
            if (!c.fits(p.paddr() + p.memsz() - 1) && p.memsz() > 0) {
                throw new UnsupportedGuestException(which + " ends at " + ElfCodec.hex(p.paddr() + p.memsz())
                        + ", beyond what ELFCLASS32 can address; dump a --begin/--length window below 4 GiB");
            }
        }
    }

    private void check(String field, long value, String why) {
        if (!ElfClass.ELF32.fits(value)) {
            throw new UnsupportedGuestException(field + " " + ElfCodec.hex(value) + " does not fit ELFCLASS32"
                    + (why == null ? "" : " (" + why + ")") + "; the architecture plugin chose ELF32 for this "
                    + "guest; dump a smaller --begin/--length window");
        }
    }
}
