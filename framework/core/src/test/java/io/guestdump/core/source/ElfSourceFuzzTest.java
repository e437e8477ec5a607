package io.guestdump.core.source;

import static io.guestdump.core.source.TestElf.pattern;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.lists;

import io.guestdump.arch.api.ArchitectureSupport;
import io.guestdump.arch.api.CpuNote;
import io.guestdump.arch.api.DumpTarget;
import io.guestdump.arch.api.GuestState;
import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.arch.api.NoteGroup;
import io.guestdump.arch.api.VcpuState;
import io.guestdump.core.plugins.ArchitectureRegistry;
import io.guestdump.core.source.TestElf.Load;
import io.guestdump.elf.ElfClass;
import io.guestdump.elf.ElfData;
import io.guestdump.core.TestMachines;
import io.guestdump.elf.Note;
import io.guestdump.elf.NoteType;
import io.guestdump.memory.GuestBlock;
import io.guestdump.memory.PhysRange;
import io.guestdump.testkit.GoldenFiles;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.quicktheories.core.Gen;
import org.quicktheories.generators.Generate;

/**
 * Mutated vmcores (ours from toy guests, QEMU's small golden dumps where present): opening one and reading every
 * block either works or throws {@link InvalidInputException}; never another exception, never a hang, never an
 * allocation out of proportion to the file.
 */
class ElfSourceFuzzTest {
    /** Mutated files tried per run. */
    private static final int EXAMPLES = 12_000;
    /** One case may take this long (a hang fails it). */
    private static final Duration CASE_TIMEOUT = Duration.ofSeconds(10);
    /** Bytes a case may allocate: a fixed allowance plus a multiple of the file's size. */
    private static final long ALLOC_FIXED = 8L << 20;
    private static final long ALLOC_PER_FILE_BYTE = 64;
    /** Reading a block reads at most this many bytes from each end when it is larger than the file. */
    private static final int READ_CHUNK = 64 * 1024;

    private static final List<Seed> SEEDS = new ArrayList<>();
    private static final ByteBuffer READ_BUFFER = ByteBuffer.allocate(READ_CHUNK);

    @TempDir
    static Path dir;

    /** A valid vmcore and the plugin that reads it. */
    record Seed(String name, byte[] bytes, ArchitectureRegistry.Loaded plugin) {}

    /** One change to a file. */
    record Mutation(int kind, int position, long value, int width, boolean bigEndian) {
        byte[] apply(byte[] in) {
            if (in.length == 0) {
                return in;
            }
            byte[] b = in.clone();
            int headers = Math.min(b.length, 1024);
            switch (kind) {
                case 0 -> b[Math.floorMod(position, b.length)] = (byte) value;
                case 1 -> b[Math.floorMod(position, headers)] = (byte) value;
                case 2 -> {
                    if (headers < width) {
                        return b;
                    }
                    int at = Math.floorMod(position, Math.max(1, headers - width + 1)) & -width;
                    ByteBuffer w = ByteBuffer.wrap(b).order(bigEndian ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
                    long v = interesting(value, b.length);
                    switch (width) {
                        case 2 -> w.putShort(at, (short) v);
                        case 4 -> w.putInt(at, (int) v);
                        default -> w.putLong(at, v);
                    }
                }
                case 3 -> b = Arrays.copyOf(b, Math.floorMod(position, b.length));
                default -> {
                    // copy a program-header-sized run elsewhere in the headers (duplicates, aliases)
                    int from = Math.floorMod(position, headers);
                    int to = Math.floorMod(value, headers);
                    int n = Math.min(56, Math.min(headers - from, headers - to));
                    System.arraycopy(in, from, b, to, n);
                }
            }
            return b;
        }

        private static long interesting(long pick, int fileLength) {
            long[] values = {0, 1, -1, 2, 0x7f, 0x80, 0xff, 0xffff, 0xfffe, 0x7fff_ffffL, 0x8000_0000L,
                    0xffff_ffffL, Long.MAX_VALUE, Long.MIN_VALUE, 1L << 40, fileLength, fileLength - 1L,
                    fileLength + 1L, fileLength / 2, 56, 64, 0x1000};
            return values[(int) Math.floorMod(pick, (long) values.length)];
        }
    }

    record Case(int seed, List<Mutation> mutations) {}

    @BeforeAll
    static void seeds() throws IOException {
        List<PhysRange> ranges = List.of(new PhysRange(0x1000, 0x1400), new PhysRange(0x3000, 0x3123));
        Note extra = new Note("GDTEST", 7, new byte[] {1, 2, 3});
        for (ElfClass c : ElfClass.values()) {
            for (ElfData d : ElfData.values()) {
                SEEDS.add(new Seed("ours " + c + " " + d,
                        TestElf.ours(TestElf.toyTarget(c, d), ranges, "OSRELEASE=6.1\nPAGESIZE=4096\n", List.of(extra)),
                        TestElf.TOY));
            }
        }
        DumpTarget be = TestElf.toyTarget(ElfClass.ELF64, ElfData.MSB);
        byte[] data = new byte[0x600];
        System.arraycopy(pattern(0x10000, 0x400), 0, data, 0, 0x400);
        System.arraycopy(pattern(0x10200, 0x200), 0, data, 0x400, 0x200);
        SEEDS.add(new Seed("qemu 7.2 layout, aliases, zero tail", TestElf.build(be, TestElf.toyNotes(be, 2, null,
                List.of()), List.of(new Load(0, 0x10000, 0x400, 0x800), new Load(0x400, 0x10200, 0x200, 0x200),
                new Load(0x100, 0x10100, 0x100, 0x100)), data, true), TestElf.TOY));
        ArchitectureRegistry.Loaded golden = new ArchitectureRegistry.Loaded(new GoldenReader(), "golden", "0", null);
        Optional<Path> root = GoldenFiles.root();
        int goldens = 0;
        for (String arch : GoldenFiles.guests()) {
            Path p = root.map(r -> r.resolve(arch).resolve("qemu-filter-odd.elf")).orElse(null);
            if (p != null && Files.isRegularFile(p)) {
                SEEDS.add(new Seed("QEMU golden " + arch, Files.readAllBytes(p), golden));
                goldens++;
            }
        }
        if (goldens == 0) {
            System.err.println("ElfSourceFuzzTest: golden qemu-filter-odd.elf files absent (../shared/golden); "
                    + "fuzzing guestdump's own vmcores only");
        }
        for (Seed s : SEEDS) {
            Outcome o = openAndRead(s.bytes(), s.plugin());
            assertTrue(o.opened(), "seed " + s.name() + " must open unmutated: " + o);
        }
    }

    private static Gen<Mutation> mutations() {
        return Generate.range(0, 4).zip(Generate.range(0, Integer.MAX_VALUE), Generate.longRange(Long.MIN_VALUE,
                Long.MAX_VALUE), Generate.pick(List.of(2, 4, 8)), Generate.booleans(), Mutation::new);
    }

    private static Gen<Case> cases() {
        return Generate.range(0, SEEDS.size() - 1).zip(lists().of(mutations()).ofSizeBetween(1, 4), Case::new);
    }

    /** What opening one file did. */
    record Outcome(boolean opened, String refusal, long allocated, int blocks) {}

    @Test
    void mutatedVmcoresOpenOrFailWithInvalidInputOnly() {
        AtomicLong tried = new AtomicLong();
        AtomicLong opened = new AtomicLong();
        AtomicLong worstAllocation = new AtomicLong();
        long t0 = System.nanoTime();
        qt().withExamples(EXAMPLES).withShrinkCycles(200).forAll(cases()).checkAssert(c -> {
            Seed seed = SEEDS.get(c.seed());
            byte[] bytes = seed.bytes();
            for (Mutation m : c.mutations()) {
                bytes = m.apply(bytes);
            }
            byte[] file = bytes;
            Outcome o = assertTimeoutPreemptively(CASE_TIMEOUT, () -> openAndRead(file, seed.plugin()),
                    () -> "hang on " + seed.name() + " with " + c.mutations());
            tried.incrementAndGet();
            if (o.opened()) {
                opened.incrementAndGet();
            }
            long limit = ALLOC_FIXED + ALLOC_PER_FILE_BYTE * file.length;
            worstAllocation.accumulateAndGet(o.allocated(), Math::max);
            assertTrue(o.allocated() <= limit, seed.name() + " with " + c.mutations() + " allocated "
                    + o.allocated() + " bytes for a " + file.length + "-byte file (limit " + limit + ")");
        });
        double seconds = (System.nanoTime() - t0) / 1e9;
        System.err.printf("ElfSourceFuzzTest: %d mutated files (%d seeds) in %.1f s, %d opened, %d refused; "
                + "largest allocation in one case %d bytes%n", tried.get(), SEEDS.size(), seconds, opened.get(),
                tried.get() - opened.get(), worstAllocation.get());
        assertTrue(opened.get() > 0 && opened.get() < tried.get(), "both outcomes must be reached");
    }

    /** Writes the file, opens it and reads every block; any exception but InvalidInputException fails. */
    private static Outcome openAndRead(byte[] file, ArchitectureRegistry.Loaded plugin) throws IOException {
        Path p = dir.resolve("fuzz.elf");
        Files.write(p, file);
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long before = mx.getCurrentThreadAllocatedBytes();
        try (LoadedGuest g = new ElfVmcoreSource(p).open(List.of(plugin))) {
            int blocks = 0;
            for (GuestBlock b : g.state().memory().blocks()) {
                readBlock(b, file.length);
                blocks++;
            }
            g.carriedNotes().forEach(Note::descSize);
            return new Outcome(true, null, mx.getCurrentThreadAllocatedBytes() - before, blocks);
        } catch (InvalidInputException e) {
            if (e.getMessage() == null || e.getMessage().isBlank()) {
                fail("refusal without a message", e);
            }
            return new Outcome(false, e.getMessage(), mx.getCurrentThreadAllocatedBytes() - before, 0);
        }
    }

    private static void readBlock(GuestBlock b, long fileLength) throws IOException {
        long size = b.range().length();
        if (size <= 4 * fileLength + READ_CHUNK) {
            for (long at = 0; at < size; at += READ_CHUNK) {
                READ_BUFFER.clear().limit((int) Math.min(READ_CHUNK, size - at));
                b.data().read(at, READ_BUFFER);
            }
            b.data().transferTo(0, size, DISCARD);
        } else {
            READ_BUFFER.clear();
            b.data().read(0, READ_BUFFER);
            READ_BUFFER.clear();
            b.data().read(size - READ_CHUNK, READ_BUFFER);
        }
    }

    private static final WritableByteChannel DISCARD = new WritableByteChannel() {
        @Override
        public int write(ByteBuffer src) {
            int n = src.remaining();
            src.position(src.limit());
            return n;
        }

        @Override
        public boolean isOpen() {
            return true;
        }

        @Override
        public void close() {}
    };

    /** Reads QEMU's golden dumps loosely: one vCPU per CORE NT_PRSTATUS note. */
    static final class GoldenReader implements ArchitectureSupport {
        @Override
        public String id() {
            return "golden";
        }

        @Override
        public Set<String> machines() {
            return Set.of("golden");
        }

        @Override
        public Set<Integer> elfMachines() {
            return Set.of(TestMachines.EM_386, TestMachines.EM_X86_64, TestMachines.EM_AARCH64, TestMachines.EM_ARM, TestMachines.EM_PPC64,
                    TestMachines.EM_S390);
        }

        @Override
        public DumpTarget describe(GuestState guest) {
            return new DumpTarget(TestMachines.EM_X86_64, ElfClass.ELF64, ElfData.LSB, 4096);
        }

        @Override
        public List<CpuNote> cpuNotes(GuestState guest, DumpTarget target) {
            return List.of(new CpuNote("CORE", NoteType.NT_PRSTATUS, NoteGroup.ARCH, 0, (cpu, out) -> { }));
        }

        @Override
        public List<VcpuState> parseMonitorRegisters(String text, String sourceName) {
            return List.of();
        }

        @Override
        public Set<String> registerNames(String machine) {
            return Set.of();
        }

        @Override
        public List<VcpuState> decodeNotes(List<Note> notes, DumpTarget target) {
            List<VcpuState> cpus = new ArrayList<>();
            for (Note n : notes) {
                if (n.owner().equals("CORE") && n.type() == NoteType.NT_PRSTATUS) {
                    cpus.add(VcpuState.builder(cpus.size()).build());
                }
            }
            return cpus;
        }
    }
}
