package io.guestdump.core.source.qmp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.guestdump.arch.api.GuestDumpException;
import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.arch.api.UnsupportedGuestException;
import io.guestdump.arch.api.VcpuState;
import io.guestdump.core.DumpRequest;
import io.guestdump.core.GuestDump;
import io.guestdump.core.config.ConfigLoader;
import io.guestdump.core.config.DumpSettings;
import io.guestdump.core.inspect.VmcoreFile;
import io.guestdump.core.plugins.ArchitectureRegistry;
import io.guestdump.core.source.LoadedGuest;
import io.guestdump.core.vmcore.ProgressListener;
import io.guestdump.elf.ProgramHeader;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A dump of a live guest through the public API, against {@link FakeQemu}: handshake, refusals, the blocks QEMU
 * would dump, and that a guest we stopped runs again however the dump ends.
 */
class QmpSourceTest {
    @TempDir
    Path dir;

    Path socket;
    FakeQemu qemu;
    ArchitectureRegistry registry;
    GuestDump dump;

    @BeforeEach
    void setUp() throws IOException {
        socket = dir.resolve("qmp.sock");
        qemu = new FakeQemu(socket);
        registry = ArchitectureRegistry.load(List.of(), List.of(), com.typesafe.config.ConfigFactory.empty());
        Files.createDirectories(dir.resolve("work"));
        var user = ConfigLoader.userLayers(null, List.of(), Map.of(
                "guestdump.source.qmp.greeting-timeout", "300ms",
                "guestdump.source.qmp.work-dir", dir.resolve("work").toString(),
                "guestdump.output.fsync", "false"));
        DumpSettings settings = DumpSettings.from(ConfigLoader.withReference(user, getClass().getClassLoader()), dir,
                dir);
        dump = new GuestDump(settings, registry);
    }

    @AfterEach
    void tearDown() throws IOException {
        registry.close();
        qemu.close();
    }

    private void run(Path out) {
        dump.dump(new DumpRequest(Optional.of("qmp:" + socket), out.toString(), Optional.empty(), Optional.empty(),
                false), ProgressListener.NONE);
    }

    private void assertResumedAndUnlocked() throws IOException {
        assertTrue(qemu.running, "the guest runs again: " + qemu.log);
        assertFalse(qemu.lockExists, "the lock object is gone");
        try (Stream<Path> s = Files.list(dir.resolve("work"))) {
            assertEquals(List.of(), s.toList(), "the private directory is removed");
        }
    }

    @Test
    void aRunningGuestIsStoppedDumpedAndResumed() throws IOException {
        Path out = dir.resolve("vmcore");
        run(out);
        assertResumedAndUnlocked();
        List<String> log = qemu.log;
        assertEquals("qmp_capabilities", log.get(0));
        assertTrue(log.indexOf("stop") < log.indexOf("hmp info registers -a"), log.toString());
        assertTrue(log.indexOf("cont") > log.lastIndexOf("pmemsave"), log.toString());
        try (VmcoreFile f = VmcoreFile.open(out)) {
            List<ProgramHeader> loads = f.loads();
            // ram0 (ram + rom at the next offset: one block), vram; not mmio, not the ramd BAR
            assertEquals(List.of("0x0+0x5000", "0x10000+0x2000"), loads.stream()
                    .map(p -> "0x" + Long.toHexString(p.paddr()) + "+0x" + Long.toHexString(p.filesz())).toList());
            for (ProgramHeader p : loads) {
                ByteBuffer buf = ByteBuffer.allocate((int) p.filesz());
                f.channel().read(buf, p.offset());
                for (int i = 0; i < p.filesz(); i++) {
                    assertEquals(FakeQemu.byteAt(p.paddr() + i), buf.get(i), "byte at paddr " + (p.paddr() + i));
                }
            }
            assertEquals(4, f.notes().size(), "2 vCPUs × (CORE + QEMU), no VMCOREINFO: the probe failed");
        }
    }

    @Test
    void aPausedGuestStaysPaused() {
        qemu.status = "paused";
        run(dir.resolve("vmcore"));
        assertFalse(qemu.running);
        assertFalse(qemu.log.contains("stop"));
        assertFalse(qemu.log.contains("cont"));
        assertFalse(qemu.lockExists);
    }

    @Test
    void anUnwritableOutputDirectoryLeavesTheGuestRunning() throws IOException {
        // /proc refuses new files even to root, where permission bits would not
        assertThrows(GuestDumpException.class, () -> run(Path.of("/proc/guestdump-vmcore")));
        assertEquals(List.of(), qemu.log, "refused before the guest was touched");
    }

    @Test
    void aFailedMemoryReadLeavesTheGuestRunningAndNoFile() throws IOException {
        qemu.overrides.put("pmemsave", args -> new FakeQemu.Error("An IO error has occurred"));
        Path out = dir.resolve("vmcore");
        GuestDumpException e = assertThrows(GuestDumpException.class, () -> run(out));
        assertTrue(e.getMessage().contains("pmemsave"), e.getMessage());
        assertFalse(Files.exists(out));
        try (Stream<Path> s = Files.list(dir)) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().endsWith(".partial")));
        }
        assertResumedAndUnlocked();
    }

    @Test
    void aLostConnectionIsReconnectedToResumeTheGuest() throws IOException {
        qemu.overrides.put("pmemsave", args -> FakeQemu.HANG_UP);
        GuestDumpException e = assertThrows(GuestDumpException.class, () -> run(dir.resolve("vmcore")));
        assertTrue(e.getMessage().contains("was lost"), e.getMessage());
        assertResumedAndUnlocked();
    }

    @Test
    void aLostConnectionSaysHowToResumeByHand() {
        qemu.overrides.put("pmemsave", args -> {
            qemu.refuseNewClients();
            return FakeQemu.HANG_UP;
        });
        GuestDumpException e = assertThrows(GuestDumpException.class, () -> run(dir.resolve("vmcore")));
        String all = e.getMessage() + " " + Stream.of(e.getSuppressed()).map(Throwable::getMessage).toList();
        assertTrue(all.contains("could not be resumed") && all.contains("\"cont\"") && all.contains(
                socket.toString()), all);
        assertFalse(qemu.running, "nobody could resume it");
    }

    @Test
    void aSocketThatIsNotQmpIsRefused() {
        qemu.greeting = "QEMU 7.2.22 monitor - type 'help' for more information\r\n(qemu) ";
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> run(dir.resolve("vmcore")));
        assertTrue(e.getMessage().contains("is not a QMP monitor socket") && e.getMessage().contains("QEMU 7.2.22"),
                e.getMessage());
    }

    @Test
    void aSilentSocketIsRefusedAfterTheGreetingTimeout() {
        qemu.greeting = null;
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> run(dir.resolve("vmcore")));
        assertTrue(e.getMessage().contains("no QMP greeting within 0.3 s") && e.getMessage().contains("one client"),
                e.getMessage());
    }

    @Test
    void anIncomingMigrationIsRefusedWithoutStoppingTheGuest() {
        qemu.status = "inmigrate";
        UnsupportedGuestException e = assertThrows(UnsupportedGuestException.class, () -> run(dir.resolve("v")));
        assertTrue(e.getMessage().contains("migrating in"), e.getMessage());
        assertFalse(qemu.log.contains("stop"));
        assertFalse(qemu.lockExists);
    }

    @Test
    void aGuestBeingDumpedByAnotherGuestdumpIsRefused() {
        qemu.lockExists = true;
        UnsupportedGuestException e = assertThrows(UnsupportedGuestException.class, () -> run(dir.resolve("v")));
        assertTrue(e.getMessage().contains("another guestdump") && e.getMessage().contains("object-del"),
                e.getMessage());
        assertFalse(qemu.log.contains("stop"));
        assertTrue(qemu.lockExists, "the other guestdump's lock stays");
        assertTrue(qemu.running);
    }

    @Test
    void aGuestBeingDumpedByQemuIsRefused() {
        qemu.overrides.put("query-dump", args -> Map.of("status", "active", "completed", 10, "total", 100));
        UnsupportedGuestException e = assertThrows(UnsupportedGuestException.class, () -> run(dir.resolve("v")));
        assertTrue(e.getMessage().contains("QEMU is dumping this guest already"), e.getMessage());
        assertFalse(qemu.lockExists);
    }

    @Test
    void aMissingSocketIsABadArgument() {
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> dump.dump(new DumpRequest(
                Optional.of("qmp:" + dir.resolve("nope.sock")), dir.resolve("v").toString(), Optional.empty(),
                Optional.empty(), false), ProgressListener.NONE));
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
    }

    @Test
    void aBareSocketPathIsAQmpSource() {
        dump.dump(new DumpRequest(Optional.of(socket.toString()), dir.resolve("v").toString(), Optional.empty(),
                Optional.empty(), false), ProgressListener.NONE);
        assertTrue(qemu.log.contains("qmp_capabilities"));
    }

    @Test
    void aFilteredDumpSavesOnlyTheWindow() throws IOException {
        Path out = dir.resolve("vmcore");
        dump.dump(new DumpRequest(Optional.of("qmp:" + socket), out.toString(), Optional.of(0x1234L),
                Optional.of(0x100L), false), ProgressListener.NONE);
        try (VmcoreFile f = VmcoreFile.open(out)) {
            ProgramHeader p = f.loads().get(0);
            assertEquals(0x1234L, p.paddr());
            ByteBuffer buf = ByteBuffer.allocate(0x100);
            f.channel().read(buf, p.offset());
            assertEquals(FakeQemu.byteAt(0x1234), buf.get(0));
            assertEquals(FakeQemu.byteAt(0x1333), buf.get(0xff));
        }
        assertTrue(qemu.log.stream().filter("pmemsave"::equals).count() == 1, qemu.log.toString());
    }

    private LoadedGuest open(Map<String, String> settings) {
        Map<String, String> all = new java.util.HashMap<>(settings);
        all.put("guestdump.source.qmp.greeting-timeout", "300ms");
        all.put("guestdump.source.qmp.work-dir", dir.resolve("work").toString());
        var config = ConfigLoader.withReference(ConfigLoader.userLayers(null, List.of(), all),
                getClass().getClassLoader());
        return new QmpSource(socket, QmpSettings.from(config)).open(registry);
    }

    private static final Map<String, String> VIA_GDB = Map.of(
            "guestdump.source.qmp.gdbstub-registers.toy64.SCTLR", "sctlr",
            "guestdump.source.qmp.gdbstub-registers.toy64.TTBR0_EL1", "ttbr0",
            "guestdump.source.qmp.gdbstub-registers.toy64.MISSING", "missing");

    @Test
    void registersTheMonitorLacksComeFromAGdbstubStartedForTheDump() throws IOException {
        qemu.status = "paused";
        try (LoadedGuest g = open(VIA_GDB)) {
            List<VcpuState> cpus = g.state().cpus();
            for (VcpuState c : cpus) {
                assertEquals(FakeGdbStub.value(74, c.index()), c.u64("sctlr"));
                assertEquals(FakeGdbStub.value(146, c.index()), c.u64("ttbr0"));
                assertFalse(c.has("missing"), "not in the target description");
            }
            assertNull(qemu.gdb, "the gdbstub is stopped: " + qemu.log);
            List<String> log = List.copyOf(qemu.log);
            int start = log.indexOf(log.stream().filter(l -> l.startsWith("hmp gdbserver unix:" + dir.resolve("work")))
                    .findFirst().orElseThrow(() -> new AssertionError(log.toString())));
            assertTrue(start > qemu.log.indexOf("query-chardev"), qemu.log.toString());
            assertTrue(qemu.log.indexOf("hmp gdbserver none") > start, qemu.log.toString());
            assertFalse(qemu.gdbStubs.get(0).packets.stream().anyMatch(p -> p.startsWith("D") || p.startsWith("c")
                    || p.startsWith("vCont")), "no detach, no continue: " + qemu.gdbStubs.get(0).packets);
            assertFalse(qemu.log.contains("cont"), "a paused guest stays paused");
        }
    }

    @Test
    void anActiveGdbserverIsLeftAloneAndTheRegistersStayAbsent() throws IOException {
        qemu.status = "paused";
        qemu.chardevs = List.of(Map.of("label", "gdb", "filename", "disconnected:tcp:127.0.0.1:1234,server=on",
                "frontend-open", true));
        try (LoadedGuest g = open(VIA_GDB)) {
            assertFalse(g.state().cpus().get(0).has("sctlr"));
            assertFalse(qemu.log.stream().anyMatch(l -> l.startsWith("hmp gdbserver")), qemu.log.toString());
        }
    }

    @Test
    void archesWithoutGdbstubRegistersNeverStartIt() throws IOException {
        qemu.status = "paused";
        try (LoadedGuest g = open(Map.of())) {
            assertFalse(qemu.log.contains("query-chardev"), qemu.log.toString());
            assertFalse(qemu.log.stream().anyMatch(l -> l.startsWith("hmp gdbserver")), qemu.log.toString());
        }
    }
}
