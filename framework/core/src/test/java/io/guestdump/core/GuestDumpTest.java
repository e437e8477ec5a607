package io.guestdump.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.arch.api.UnsupportedGuestException;
import io.guestdump.core.inspect.VmcoreFile;
import io.guestdump.core.plugins.ArchitectureRegistry;
import io.guestdump.core.vmcore.ProgressListener;
import io.guestdump.elf.ElfClass;
import io.guestdump.elf.ElfData;
import io.guestdump.elf.Note;
import io.guestdump.elf.ProgramHeader;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Snapshot in, vmcore out, through the public API, checked byte by byte. */
class GuestDumpTest {
    @TempDir
    Path dir;

    ArchitectureRegistry registry;
    GuestDump dump;

    @BeforeEach
    void setUp() {
        registry = TestGuests.registry();
        dump = new GuestDump(TestGuests.settings(dir, Map.of()), registry);
    }

    @AfterEach
    void tearDown() {
        registry.close();
    }

    private DumpResult run(Path snapshot, Path out, Long begin, Long length) {
        return dump.dump(new DumpRequest(Optional.of("snapshot:" + snapshot), out.toString(),
                Optional.ofNullable(begin), Optional.ofNullable(length), false), ProgressListener.NONE);
    }

    @Test
    void notesAreEveryCpusArchNotesThenEveryCpusQemuNoteThenVmcoreinfo() throws IOException {
        Path snap = TestGuests.snapshot(dir, "toy64", List.of(new TestGuests.Block(0x1000, 8192)), 3);
        Path out = dir.resolve("vmcore");
        DumpResult r = run(snap, out, null, null);
        assertEquals(7, r.notes());
        try (VmcoreFile f = VmcoreFile.open(out)) {
            List<Note> notes = f.notes();
            assertEquals(List.of("CORE", "CORE", "CORE", "QEMU", "QEMU", "QEMU", "VMCOREINFO"),
                    notes.stream().map(Note::owner).toList());
            for (int cpu = 0; cpu < 3; cpu++) {
                ByteBuffer core = ElfData.LSB.wrap(notes.get(cpu).desc());
                assertEquals(cpu + 1, core.getInt(0), "pr_pid = cpu index + 1");
                assertEquals(0x1000 + cpu, core.getLong(8));
                assertEquals(0x8000 + cpu, ElfData.LSB.wrap(notes.get(3 + cpu).desc()).getLong(0));
            }
            assertEquals("OSRELEASE=6.1.0-toy\nPAGESIZE=4096\n",
                    new String(notes.get(6).desc(), StandardCharsets.UTF_8));
            assertTrue(f.warnings().isEmpty(), f.warnings().toString());
        }
    }

    @Test
    void everyPhysicalByteOfTheSnapshotIsInTheVmcore() throws IOException {
        List<TestGuests.Block> blocks = List.of(new TestGuests.Block(0, 0xa0000),
                new TestGuests.Block(0x100000, 0x12345), new TestGuests.Block(0x1_0000_0000L, 4096));
        Path snap = TestGuests.snapshot(dir, "toy64", blocks, 1);
        Path out = dir.resolve("vmcore");
        run(snap, out, null, null);
        byte[] file = Files.readAllBytes(out);
        try (VmcoreFile f = VmcoreFile.open(out)) {
            List<ProgramHeader> loads = f.loads();
            assertEquals(3, loads.size());
            for (int i = 0; i < 3; i++) {
                ProgramHeader p = loads.get(i);
                assertEquals(blocks.get(i).start(), p.paddr());
                assertEquals(blocks.get(i).size(), p.filesz());
                for (long k = 0; k < p.filesz(); k++) {
                    if (file[(int) (p.offset() + k)] != TestGuests.byteAt(p.paddr() + k)) {
                        throw new AssertionError("byte at paddr 0x" + Long.toHexString(p.paddr() + k));
                    }
                }
            }
        }
    }

    @Test
    void filterClipsBlocksExactlyAsQemu() throws IOException {
        Path snap = TestGuests.snapshot(dir, "toy64",
                List.of(new TestGuests.Block(0, 0x10000), new TestGuests.Block(0x20000, 0x10000)), 1);
        Path out = dir.resolve("vmcore");
        run(snap, out, 0xf123L, 0x12345L);
        try (VmcoreFile f = VmcoreFile.open(out)) {
            List<ProgramHeader> loads = f.loads();
            assertEquals(2, loads.size());
            assertEquals(0xf123, loads.get(0).paddr());
            assertEquals(0x10000 - 0xf123, loads.get(0).filesz());
            assertEquals(0x20000, loads.get(1).paddr());
            assertEquals(0xf123 + 0x12345 - 0x20000, loads.get(1).filesz());
            assertEquals(loads.get(0).fileEnd(), loads.get(1).offset());
        }
    }

    @Test
    void filterThatHitsNoMemoryNamesTheBlocksAndLeavesNoFile() throws IOException {
        Path snap = TestGuests.snapshot(dir, "toy64", List.of(new TestGuests.Block(0x1000, 4096)), 1);
        Path out = dir.resolve("vmcore");
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> run(snap, out, 0x10000L, 16L));
        assertTrue(e.getMessage().contains("no guest memory to dump"), e.getMessage());
        assertTrue(e.getMessage().contains("[0x1000, 0x2000)"), e.getMessage());
        assertFalse(Files.exists(out));
        assertNoPartialFiles();
    }

    @Test
    void filterRulesBothOrNeitherPositiveLengthNoOverflow() throws IOException {
        Path snap = TestGuests.snapshot(dir, "toy64", List.of(new TestGuests.Block(0x1000, 4096)), 1);
        Path out = dir.resolve("vmcore");
        assertTrue(assertThrows(InvalidInputException.class, () -> run(snap, out, 0x1000L, null)).getMessage()
                .contains("needs --length"));
        assertTrue(assertThrows(InvalidInputException.class, () -> run(snap, out, null, 5L)).getMessage()
                .contains("needs --begin"));
        assertTrue(assertThrows(InvalidInputException.class, () -> run(snap, out, 0x1000L, 0L)).getMessage()
                .contains("--length 0"));
        assertTrue(assertThrows(InvalidInputException.class, () -> run(snap, out, -4096L, 4096L)).getMessage()
                .contains("overflows 64 bits"));
        assertFalse(Files.exists(out));
    }

    @Test
    void elf32GuestAbove4GiBIsRefusedNotTruncated() throws IOException {
        Path snap = TestGuests.snapshot(dir, "toy32", List.of(new TestGuests.Block(0x1_0000_0000L, 4096)), 1);
        Path out = dir.resolve("vmcore");
        UnsupportedGuestException e = assertThrows(UnsupportedGuestException.class, () -> run(snap, out, null, null));
        assertTrue(e.getMessage().contains("does not fit ELFCLASS32"), e.getMessage());
        assertFalse(Files.exists(out));
    }

    @Test
    void bigEndianAndElf32OutputsCarryTheirClassAndOrder() throws IOException {
        for (String machine : List.of("toybe", "toy32")) {
            Path sub = Files.createDirectories(dir.resolve(machine));
            Path snap = TestGuests.snapshot(sub, machine, List.of(new TestGuests.Block(0x2000, 4096)), 2);
            Path out = sub.resolve("vmcore");
            run(snap, out, null, null);
            try (VmcoreFile f = VmcoreFile.open(out)) {
                assertEquals(machine.equals("toybe") ? ElfData.MSB : ElfData.LSB, f.header().data());
                assertEquals(machine.equals("toy32") ? ElfClass.ELF32 : ElfClass.ELF64, f.header().elfClass());
                ByteBuffer core = f.header().data().wrap(f.notes().get(1).desc());
                assertEquals(2, core.getInt(0), "pr_pid in the dump's byte order");
            }
        }
    }

    @Test
    void outputIsMode0600AndAnExistingFileNeedsForce() throws IOException {
        Path snap = TestGuests.snapshot(dir, "toy64", List.of(new TestGuests.Block(0x1000, 4096)), 1);
        Path out = dir.resolve("vmcore");
        run(snap, out, null, null);
        assertEquals(Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE),
                Files.getPosixFilePermissions(out));
        byte[] first = Files.readAllBytes(out);
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> run(snap, out, null, null));
        assertTrue(e.getMessage().contains("--force"), e.getMessage());
        dump.dump(new DumpRequest(Optional.of("snapshot:" + snap), out.toString(), Optional.empty(), Optional.empty(),
                true), ProgressListener.NONE);
        assertTrue(java.util.Arrays.equals(first, Files.readAllBytes(out)), "same input, same bytes");
    }

    @Test
    void symlinkTargetIsRefused() throws IOException {
        Path snap = TestGuests.snapshot(dir, "toy64", List.of(new TestGuests.Block(0x1000, 4096)), 1);
        Path real = Files.writeString(dir.resolve("precious"), "keep me");
        Path link = Files.createSymbolicLink(dir.resolve("vmcore"), real);
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> dump.dump(new DumpRequest(Optional.of("snapshot:" + snap), link.toString(), Optional.empty(),
                        Optional.empty(), true), ProgressListener.NONE));
        assertTrue(e.getMessage().contains("symbolic link"), e.getMessage());
        assertEquals("keep me", Files.readString(real));
    }

    @Test
    void aFailureWhileWritingLeavesNothingAtTheTarget() throws IOException {
        Path snap = TestGuests.snapshot(dir, "toy64", List.of(new TestGuests.Block(0x1000, 1 << 20)), 1);
        Path out = dir.resolve("vmcore");
        // the RAM file shrinks after the snapshot was checked: the copy hits end of file mid-dump
        DumpRequest req = new DumpRequest(Optional.of("snapshot:" + snap), out.toString(), Optional.empty(),
                Optional.empty(), false);
        ProgressListener shrink = (done, total) -> {
            try {
                try (var ch = java.nio.channels.FileChannel.open(dir.resolve("b0.bin"),
                        java.nio.file.StandardOpenOption.WRITE)) {
                    ch.truncate(1000);
                }
            } catch (IOException e) {
                throw new AssertionError(e);
            }
        };
        RuntimeException e = assertThrows(RuntimeException.class, () -> dump.dump(req, shrink));
        assertTrue(e.getMessage().contains(out.toString()), e.getMessage());
        assertFalse(Files.exists(out));
        assertNoPartialFiles();
    }

    private void assertNoPartialFiles() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            List<Path> partial = s.filter(p -> p.getFileName().toString().endsWith(".partial")).toList();
            assertTrue(partial.isEmpty(), "left behind: " + partial);
        }
    }

    @Test
    void pagingNeedsAPluginWithAWalkerAndSaysSoBeforeCreatingTheFile() throws IOException {
        Path snap = TestGuests.snapshot(dir, "toy64", List.of(new TestGuests.Block(0x1000, 8192)), 1);
        Path out = dir.resolve("paging.vmcore");
        UnsupportedGuestException e = assertThrows(UnsupportedGuestException.class, () -> dump.dump(
                new DumpRequest(Optional.of("snapshot:" + snap), out.toString(), Optional.empty(), Optional.empty(),
                        false, true, "elf"), ProgressListener.NONE));
        assertTrue(e.getMessage().contains("has no page-table walker"), e.getMessage());
        assertFalse(Files.exists(out));
    }
}
