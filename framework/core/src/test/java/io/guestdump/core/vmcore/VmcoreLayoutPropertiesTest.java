package io.guestdump.core.vmcore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;

import io.guestdump.arch.api.DumpTarget;
import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.arch.api.UnsupportedGuestException;
import io.guestdump.core.DumpFilter;
import io.guestdump.elf.ElfClass;
import io.guestdump.elf.ElfCodec;
import io.guestdump.elf.ElfConstants;
import io.guestdump.elf.ElfData;
import io.guestdump.elf.ElfHeader;
import io.guestdump.core.TestMachines;
import io.guestdump.elf.ProgramHeader;
import io.guestdump.elf.SegmentType;
import io.guestdump.memory.GuestBlock;
import io.guestdump.memory.MemoryMapping;
import io.guestdump.memory.PhysRange;
import io.guestdump.testkit.MemoryGenerators;
import io.guestdump.testkit.PatternData;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.quicktheories.core.Gen;
import org.quicktheories.generators.Generate;

/** Layout invariants over generated guests, filters, classes and byte orders, checked on written bytes. */
class VmcoreLayoutPropertiesTest {
    /** Classes of generated cases; each must be reached. */
    enum Case { ADJACENT_BLOCKS, UNALIGNED_BLOCK, CROSSES_4GIB, FILTER_MISSES, FILTER_CUTS, NO_FILTER, ELF32_OK,
        ELF32_OVERFLOW, BIG_ENDIAN }

    private static final Map<Case, Integer> SEEN = new EnumMap<>(Case.class);

    record Guest(List<PhysRange> layout, Optional<PhysRange> window, ElfClass elfClass, ElfData data, int notes) {}

    static Gen<Guest> guests() {
        return MemoryGenerators.layouts(5).flatMap(layout -> MemoryGenerators.windows(layout).zip(
                Generate.enumValues(ElfClass.class), Generate.enumValues(ElfData.class),
                Generate.range(0, 500).map(n -> n * 4),
                (w, c, d, n) -> new Guest(layout, w, c, d, n)));
    }

    @Test
    void loadSegmentsNeverOverlapAndEveryByteLandsAtItsOffset() {
        qt().withExamples(400).forAll(guests()).checkAssert(VmcoreLayoutPropertiesTest::check);
    }

    private static void check(Guest g) {
        List<GuestBlock> blocks = MemoryGenerators.blocks(g.layout());
        classify(g);
        List<GuestBlock> dumped;
        try {
            dumped = DumpFilter.apply(blocks, g.window());
        } catch (InvalidInputException e) {
            see(Case.FILTER_MISSES);
            assertTrue(e.getMessage().startsWith("no guest memory to dump"), e.getMessage());
            assertTrue(blocks.stream().allMatch(b -> b.clip(g.window().get()) == null));
            return;
        }
        List<MemoryMapping> mappings = new ArrayList<>();
        for (GuestBlock b : dumped) {
            mappings.add(new MemoryMapping(b.range().start(), b.range().start(), b.range().length()));
        }
        DumpTarget target = new DumpTarget(TestMachines.EM_RISCV, g.elfClass(), g.data(), 4096);
        boolean fits32 = dumped.stream().allMatch(b -> Long.compareUnsigned(b.range().end() - 1, 0xffff_ffffL) <= 0);
        if (g.elfClass() == ElfClass.ELF32 && !fits32) {
            see(Case.ELF32_OVERFLOW);
            UnsupportedGuestException e = assertThrows(UnsupportedGuestException.class,
                    () -> VmcoreLayout.plan(target, g.notes(), mappings, dumped));
            assertTrue(e.getMessage().contains("does not fit ELFCLASS32") || e.getMessage().contains("beyond what"),
                    e.getMessage());
            return;
        }
        if (g.elfClass() == ElfClass.ELF32) {
            see(Case.ELF32_OK);
        }
        VmcoreLayout layout = VmcoreLayout.plan(target, g.notes(), mappings, dumped);
        byte[] notes = new byte[g.notes()];
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try {
            VmcoreWriter.write(layout, notes, Channels.newChannel(bytes), ProgressListener.NONE);
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
        byte[] file = bytes.toByteArray();
        assertEquals(layout.fileSize(), file.length, "file length equals the planned size");

        ByteBuffer in = ByteBuffer.wrap(file);
        ElfHeader h = ElfCodec.readHeader(in);
        assertEquals(g.elfClass(), h.elfClass());
        assertEquals(g.data(), h.data());
        assertEquals(g.elfClass().ehdrSize(), h.ehsize(), "e_ehsize is the real header size");
        assertEquals(Math.min(1 + mappings.size(), ElfConstants.PN_XNUM), h.phnum());
        in.position((int) h.phoff());
        ProgramHeader note = ElfCodec.readProgramHeader(in, g.elfClass());
        assertEquals(SegmentType.PT_NOTE, note.type());
        assertEquals(g.notes(), note.filesz(), "PT_NOTE p_filesz equals the notes' size");
        assertEquals(0, note.offset() % ElfConstants.NOTE_ALIGNMENT);

        long stored = 0;
        long previousEnd = note.fileEnd();
        long expected = dumped.stream().mapToLong(b -> b.range().length()).sum();
        for (int i = 0; i < mappings.size(); i++) {
            ProgramHeader p = ElfCodec.readProgramHeader(in, g.elfClass());
            assertEquals(SegmentType.PT_LOAD, p.type());
            assertTrue(Long.compareUnsigned(p.filesz(), p.memsz()) <= 0, "p_filesz <= p_memsz");
            assertEquals(p.paddr(), p.vaddr(), "simple mode: p_vaddr = p_paddr");
            assertTrue(p.offset() >= previousEnd, "PT_LOAD file ranges are sorted and disjoint");
            previousEnd = p.fileEnd();
            stored += p.filesz();
            // every byte of the segment, or a sample of large ones, is the guest's byte at that address
            long step = Math.max(1, p.filesz() / 257);
            for (long k = 0; k < p.filesz(); k += step) {
                assertEquals(PatternData.byteAt(p.paddr() + k), file[(int) (p.offset() + k)],
                        "byte at paddr 0x" + Long.toHexString(p.paddr() + k));
            }
            if (p.filesz() > 0) {
                assertEquals(PatternData.byteAt(p.paddr() + p.filesz() - 1), file[(int) (p.fileEnd() - 1)]);
            }
        }
        assertEquals(expected, stored, "sum of p_filesz equals the bytes of (blocks ∩ filter)");
        assertEquals(file.length, previousEnd, "file ends with the last PT_LOAD");
    }

    private static void classify(Guest g) {
        List<PhysRange> l = g.layout();
        for (int i = 1; i < l.size(); i++) {
            if (l.get(i).start() == l.get(i - 1).end()) {
                see(Case.ADJACENT_BLOCKS);
            }
        }
        if (l.stream().anyMatch(r -> r.start() % 4096 != 0 || r.length() % 4096 != 0)) {
            see(Case.UNALIGNED_BLOCK);
        }
        if (l.stream().anyMatch(r -> r.start() < MemoryGenerators.FOUR_GIB && r.end() > MemoryGenerators.FOUR_GIB)
                || (l.get(0).start() < MemoryGenerators.FOUR_GIB
                        && l.get(l.size() - 1).end() > MemoryGenerators.FOUR_GIB)) {
            see(Case.CROSSES_4GIB);
        }
        if (g.window().isEmpty()) {
            see(Case.NO_FILTER);
        } else if (l.stream().anyMatch(r -> r.overlaps(g.window().get())
                && !(g.window().get().start() <= r.start() && r.end() <= g.window().get().end()))) {
            see(Case.FILTER_CUTS);
        }
        if (g.data() == ElfData.MSB) {
            see(Case.BIG_ENDIAN);
        }
    }

    private static synchronized void see(Case c) {
        SEEN.merge(c, 1, Integer::sum);
    }

    @AfterAll
    static void generatorsReachEveryEdge() {
        for (Case c : Case.values()) {
            assertTrue(SEEN.getOrDefault(c, 0) > 0, "no generated case of kind " + c + "; seen " + SEEN);
        }
    }
}
