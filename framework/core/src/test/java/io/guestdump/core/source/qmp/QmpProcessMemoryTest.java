package io.guestdump.core.source.qmp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.guestdump.core.DumpRequest;
import io.guestdump.core.GuestDump;
import io.guestdump.core.config.ConfigLoader;
import io.guestdump.core.config.DumpSettings;
import io.guestdump.core.inspect.VmcoreFile;
import io.guestdump.core.plugins.ArchitectureRegistry;
import io.guestdump.core.vmcore.ProgressListener;
import io.guestdump.elf.ProgramHeader;
import java.io.IOException;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The RAM of a stopped guest read from the QEMU process's memory ({@code guestdump.source.qmp.read-process-memory}):
 * {@link FakeQemu} plays a QEMU whose guest RAM lies in this test's own process (native memory), reached through
 * {@code query-cpus-fast}'s thread id and {@code gpa2hva}, so {@code /proc/TID/mem} is this process's memory.
 */
class QmpProcessMemoryTest {
    /** 4 MiB of guest RAM: the dump would stream it all through pmemsave without the process memory. */
    private static final long RAM = 4L << 20;
    private static final String MTREE = """
            FlatView #0
             AS "memory", root: system
             AS "cpu-memory-0", root: system
             Root memory region: system
              0000000000000000-00000000003fffff (prio 0, ram): ram0
            """;

    @TempDir
    Path dir;

    Path socket;
    FakeQemu qemu;
    ArchitectureRegistry registry;
    sun.misc.Unsafe unsafe;
    long native0;

    @BeforeEach
    void setUp() throws Exception {
        socket = dir.resolve("qmp.sock");
        qemu = new FakeQemu(socket);
        qemu.mtree = MTREE;
        qemu.status = "paused";
        registry = ArchitectureRegistry.load(List.of(), List.of(), com.typesafe.config.ConfigFactory.empty());
        Files.createDirectories(dir.resolve("work"));
        Field f = sun.misc.Unsafe.class.getDeclaredField("theUnsafe");
        f.setAccessible(true);
        unsafe = (sun.misc.Unsafe) f.get(null);
        native0 = unsafe.allocateMemory(RAM);
        for (long p = 0; p < RAM; p++) {
            unsafe.putByte(native0 + p, FakeQemu.byteAt(p));
        }
    }

    @AfterEach
    void tearDown() throws IOException {
        registry.close();
        qemu.close();
        unsafe.freeMemory(native0);
    }

    private Path dump(String readProcessMemory) {
        Path out = run(readProcessMemory);
        assertFalse(qemu.running, "the paused guest stays paused: " + qemu.log);
        assertFalse(qemu.log.contains("stop") || qemu.log.contains("cont"), qemu.log.toString());
        assertFalse(qemu.lockExists);
        return out;
    }

    private Path run(String readProcessMemory) {
        var user = ConfigLoader.userLayers(null, List.of(), Map.of(
                "guestdump.source.qmp.work-dir", dir.resolve("work").toString(),
                "guestdump.source.qmp.read-process-memory", readProcessMemory,
                "guestdump.source.qmp.live", "never",
                "guestdump.output.fsync", "false"));
        DumpSettings settings = DumpSettings.from(ConfigLoader.withReference(user, getClass().getClassLoader()), dir,
                dir);
        Path out = dir.resolve("vmcore-" + readProcessMemory);
        new GuestDump(settings, registry).dump(new DumpRequest(Optional.of("qmp:" + socket), out.toString(),
                Optional.empty(), Optional.empty(), false), ProgressListener.NONE);
        return out;
    }

    private static void assertGuestBytes(Path out) throws IOException {
        try (VmcoreFile f = VmcoreFile.open(out)) {
            List<ProgramHeader> loads = f.loads();
            assertEquals(1, loads.size());
            ProgramHeader p = loads.get(0);
            assertEquals(RAM, p.filesz());
            ByteBuffer buf = ByteBuffer.allocate((int) p.filesz());
            f.channel().read(buf, p.offset());
            for (int i = 0; i < p.filesz(); i++) {
                assertEquals(FakeQemu.byteAt(i), buf.get(i), "byte at paddr " + i);
            }
        }
    }

    private long pmemsaveBytes() {
        return qemu.pmemsaveSizes.stream().mapToLong(Long::longValue).sum();
    }

    @Test
    void aPausedGuestIsReadFromTheProcessAfterOnePageIsChecked() throws IOException {
        qemu.hostBase = native0;
        Path out = dump("true");
        assertGuestBytes(out);
        assertTrue(qemu.log.contains("query-cpus-fast") && qemu.log.contains("hmp gpa2hva 0x0"), qemu.log.toString());
        // only the check went through pmemsave: the 64 KiB around the block's first page
        assertEquals(List.of((long) PmemsaveMemory.PAGE_CHUNK), qemu.pmemsaveSizes);
    }

    @Test
    void aRunningGuestStoppedForTheDumpIsReadFromTheProcessWhileStopped() throws IOException {
        qemu.status = "running";
        qemu.hostBase = native0;
        Path out = run("true");
        assertGuestBytes(out);
        assertTrue(qemu.running, "resumed after the dump: " + qemu.log);
        assertTrue(qemu.log.indexOf("stop") < qemu.log.indexOf("query-cpus-fast"), qemu.log.toString());
        assertEquals(List.of((long) PmemsaveMemory.PAGE_CHUNK), qemu.pmemsaveSizes);
    }

    @Test
    void processMemoryThatDiffersFromPmemsaveIsNotUsed() throws IOException {
        qemu.hostBase = native0 + 1; // gpa2hva one byte off: the first page reads differently
        Path out = dump("true");
        assertGuestBytes(out);
        assertTrue(pmemsaveBytes() >= RAM, "the whole RAM streamed through pmemsave: " + qemu.pmemsaveSizes);
    }

    @Test
    void aQemuWithoutThreadIdsIsStreamedThroughPmemsave() throws IOException {
        Path out = dump("true"); // hostBase 0: no query-cpus-fast
        assertGuestBytes(out);
        assertTrue(pmemsaveBytes() >= RAM, qemu.pmemsaveSizes.toString());
        assertFalse(qemu.log.stream().anyMatch(c -> c.startsWith("hmp gpa2hva")), qemu.log.toString());
    }

    @Test
    void theSettingOffStreamsThroughPmemsave() throws IOException {
        qemu.hostBase = native0;
        Path out = dump("false");
        assertGuestBytes(out);
        assertTrue(pmemsaveBytes() >= RAM, qemu.pmemsaveSizes.toString());
        assertFalse(qemu.log.contains("query-cpus-fast"), qemu.log.toString());
    }
}
