package io.guestdump.core.source.qmp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.guestdump.arch.api.GuestDumpException;
import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.arch.api.UnsupportedGuestException;
import io.guestdump.core.DumpRequest;
import io.guestdump.core.GuestDump;
import io.guestdump.core.GuestLeftPausedException;
import io.guestdump.core.config.ConfigLoader;
import io.guestdump.core.config.DumpSettings;
import io.guestdump.core.plugins.ArchitectureRegistry;
import io.guestdump.core.vmcore.ProgressListener;
import java.io.IOException;
import java.io.OutputStream;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Misbehaving QMP peers (issue 15), scripted on {@link FakeQemu}: each ends in a bounded time with a clear error,
 * the guest resumed if guestdump stopped it, the lock removed, and no file (or the file and a paused guest, said
 * loudly). Every wait is held at a known point (a reply that never comes, a pipe that stays empty) and ended by
 * guestdump's own deadlines, set short here.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class QmpHostileTest {
    @TempDir
    Path dir;

    Path socket;
    FakeQemu qemu;
    ArchitectureRegistry registry;

    @BeforeEach
    void setUp() throws IOException {
        socket = dir.resolve("qmp.sock");
        qemu = new FakeQemu(socket);
        registry = ArchitectureRegistry.load(List.of(), List.of(), com.typesafe.config.ConfigFactory.empty());
        Files.createDirectories(dir.resolve("work"));
    }

    @AfterEach
    void tearDown() throws IOException {
        QmpSession.observer = s -> {};
        registry.close();
        qemu.close();
    }

    private GuestDump dump(Map<String, String> extra) {
        Map<String, String> all = new HashMap<>(Map.of(
                "guestdump.source.qmp.greeting-timeout", "2s",
                "guestdump.source.qmp.command-timeout", "5s",
                "guestdump.source.qmp.pmemsave-stall-timeout", "400ms",
                "guestdump.source.qmp.work-dir", dir.resolve("work").toString(),
                "guestdump.output.fsync", "false"));
        all.putAll(extra);
        var user = ConfigLoader.userLayers(null, List.of(), all);
        return new GuestDump(DumpSettings.from(ConfigLoader.withReference(user, getClass().getClassLoader()), dir,
                dir), registry);
    }

    private void run(Path out) {
        run(out, Map.of());
    }

    private void run(Path out, Map<String, String> settings) {
        dump(settings).dump(new DumpRequest(Optional.of("qmp:" + socket), out.toString(), Optional.empty(),
                Optional.empty(), false), ProgressListener.NONE);
    }

    private void assertResumedUnlockedAndNoFile(Path out) throws IOException {
        assertTrue(qemu.running, "the guest runs again: " + qemu.log);
        assertFalse(qemu.lockExists, "the lock object is gone");
        try (Stream<Path> s = Files.list(dir.resolve("work"))) {
            assertEquals(List.of(), s.toList(), "the private directory is removed");
        }
        assertFalse(Files.exists(out), "no vmcore");
        try (Stream<Path> s = Files.list(dir)) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().endsWith(".partial")), "no .partial");
        }
    }

    private static String all(Throwable e) {
        StringBuilder sb = new StringBuilder(String.valueOf(e.getMessage()));
        for (Throwable c = e.getCause(); c != null; c = c.getCause()) {
            sb.append(" | ").append(c.getMessage());
        }
        for (Throwable s : e.getSuppressed()) {
            sb.append(" | ").append(s.getMessage());
        }
        return sb.toString();
    }

    // ---- every wait has a deadline

    @Test
    void aPmemsaveThatIsNeverAnsweredFailsAfterTheStallTimeout() throws IOException {
        qemu.overrides.put("pmemsave", args -> FakeQemu.NO_REPLY);
        Path out = dir.resolve("vmcore");
        GuestDumpException e = assertThrows(GuestDumpException.class, () -> run(out));
        assertTrue(all(e).contains("delivered no byte for 0.4 s") && all(e).contains("pmemsave-stall-timeout"),
                all(e));
        assertResumedUnlockedAndNoFile(out);
    }

    @Test
    void aPmemsaveAnsweredOkAfterHalfTheBytesIsAnErrorNotAShortVmcore() throws IOException {
        qemu.overrides.put("pmemsave", args -> {
            long size = ((Number) args.get("size")).longValue();
            try (OutputStream o = Files.newOutputStream(Path.of((String) args.get("filename")))) {
                o.write(new byte[(int) (size / 2)]);
            } catch (IOException ex) {
                return new FakeQemu.Error(ex.getMessage());
            }
            return Map.of();
        });
        Path out = dir.resolve("vmcore");
        GuestDumpException e = assertThrows(GuestDumpException.class, () -> run(out));
        assertTrue(all(e).contains("short pmemsave") && all(e).contains("as done after writing only"), all(e));
        assertResumedUnlockedAndNoFile(out);
    }

    @Test
    void aPmemsaveThatDeliversEverythingButNeverAnswersFails() throws IOException {
        qemu.overrides.put("pmemsave", args -> {
            long size = ((Number) args.get("size")).longValue();
            try (OutputStream o = Files.newOutputStream(Path.of((String) args.get("filename")))) {
                o.write(new byte[(int) size]);
            } catch (IOException ex) {
                return new FakeQemu.Error(ex.getMessage());
            }
            return FakeQemu.NO_REPLY;
        });
        Path out = dir.resolve("vmcore");
        GuestDumpException e = assertThrows(GuestDumpException.class, () -> run(out));
        assertTrue(all(e).contains("did not answer within 0.4 s"), all(e));
        assertResumedUnlockedAndNoFile(out);
    }

    @Test
    void aPmemsaveSlowerThanTheMinimumRateFails() throws IOException {
        // 16 bytes every 100 ms: never a stall of 400 ms, but far below 1 KiB/s
        qemu.overrides.put("pmemsave", args -> {
            long size = ((Number) args.get("size")).longValue();
            try (OutputStream o = Files.newOutputStream(Path.of((String) args.get("filename")))) {
                for (long done = 0; done < size; done += 16) {
                    o.write(new byte[16]);
                    o.flush();
                    Thread.sleep(100);
                }
            } catch (IOException | InterruptedException ex) {
                return new FakeQemu.Error("pipe closed: " + ex.getMessage());
            }
            return Map.of();
        });
        Path out = dir.resolve("vmcore");
        GuestDumpException e = assertThrows(GuestDumpException.class, () -> run(out, Map.of(
                "guestdump.source.qmp.pmemsave-min-rate", "1 KiB")));
        assertTrue(all(e).contains("slower than guestdump.source.qmp.pmemsave-min-rate"), all(e));
        assertResumedUnlockedAndNoFile(out);
    }

    // ---- replies are matched to commands, and bounded

    @Test
    void aReplyWithAForeignIdIsAProtocolError() {
        qemu.overrides.put("query-target", args -> new FakeQemu.Raw(
                "{\"return\": {\"arch\": \"toy64\"}, \"id\": \"libvirt-42\"}\r\n"));
        GuestDumpException e = assertThrows(GuestDumpException.class, () -> run(dir.resolve("vmcore")));
        assertTrue(all(e).contains("protocol error") && all(e).contains("\"libvirt-42\""), all(e));
        assertFalse(qemu.log.contains("stop"), "the guest was never touched: " + qemu.log);
        assertTrue(qemu.running);
    }

    @Test
    void aReplyWithoutIdIsAProtocolError() {
        qemu.overrides.put("query-target", args -> new FakeQemu.Raw("{\"return\": {\"arch\": \"toy64\"}}\r\n"));
        GuestDumpException e = assertThrows(GuestDumpException.class, () -> run(dir.resolve("vmcore")));
        assertTrue(all(e).contains("protocol error") && all(e).contains("without an id"), all(e));
        assertFalse(qemu.log.contains("stop"));
    }

    @Test
    void anUnboundedReplyIsAProtocolErrorNotOutOfMemory() {
        // 3 MiB of one string that never ends, against a 1 MiB bound
        qemu.overrides.put("query-target", args -> new FakeQemu.Raw("{\"return\": {\"arch\": \""
                + "A".repeat(3 << 20)));
        GuestDumpException e = assertThrows(GuestDumpException.class, () -> run(dir.resolve("vmcore"), Map.of(
                "guestdump.source.qmp.max-message-size", "1 MiB")));
        assertTrue(all(e).contains("protocol error") && all(e).contains("longer than 1048576 bytes"), all(e));
    }

    @Test
    void twoHundredThousandNestedArraysAreAProtocolErrorNotStackOverflow() {
        qemu.overrides.put("query-target", args -> new FakeQemu.Raw("{\"return\": " + "[".repeat(200_000)));
        GuestDumpException e = assertThrows(GuestDumpException.class, () -> run(dir.resolve("vmcore")));
        assertTrue(all(e).contains("protocol error") && all(e).contains("nested more than 64 levels"), all(e));
    }

    @Test
    void theJsonParserRefusesDeepNestingItself() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Json.parse("[".repeat(100_000) + "]".repeat(100_000)));
        assertTrue(e.getMessage().contains("nested more than"), e.getMessage());
    }

    @Test
    void aGdbstubReplyWithoutEndIsAProtocolError() throws Exception {
        Path gdb = dir.resolve("gdb.sock");
        try (ServerSocketChannel server = ServerSocketChannel.open(java.net.StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(gdb));
            CompletableFuture<Void> serving = CompletableFuture.runAsync(() -> {
                try (SocketChannel c = server.accept()) {
                    c.read(ByteBuffer.allocate(256));
                    c.write(ByteBuffer.wrap("+$".getBytes(StandardCharsets.ISO_8859_1)));
                    ByteBuffer junk = ByteBuffer.wrap("a".repeat(64 << 10).getBytes(StandardCharsets.ISO_8859_1));
                    for (int i = 0; i < 40; i++) { // 2.5 MiB, more than the 1 MiB bound
                        c.write(junk.rewind());
                    }
                } catch (IOException ignored) {
                    // the client gave up, as it should
                }
            });
            IOException e = assertThrows(IOException.class, () -> GdbStub.connect(gdb, Duration.ofSeconds(5)));
            assertTrue(e.getMessage().contains("protocol error"), e.getMessage());
            serving.get(10, TimeUnit.SECONDS);
        }
    }

    // ---- never claim a state that was not confirmed

    @Test
    void ctrlCWhileTheStopReplyIsPendingResumesTheGuestAndSaysWhatIsTrue() throws Exception {
        qemu.overrides.put("stop", args -> {
            qemu.running = false; // QEMU stopped the guest, and its answer is late
            return FakeQemu.NO_REPLY;
        });
        AtomicReference<QmpSession> session = new AtomicReference<>();
        QmpSession.observer = session::set;
        CompletableFuture<Void> dumping = CompletableFuture.runAsync(() -> run(dir.resolve("vmcore")));
        while (!qemu.log.contains("stop")) {
            Thread.sleep(10);
        }
        String said = session.get().onInterrupt(); // what the shutdown hook prints on SIGINT
        assertEquals("interrupted; the guest is running again (query-status: running)", said);
        assertTrue(qemu.running);
        assertFalse(qemu.lockExists);
        List<String> log = List.copyOf(qemu.log);
        assertTrue(log.indexOf("cont") > log.indexOf("stop") && log.lastIndexOf("query-status") > log.indexOf("cont"),
                log.toString());
        Exception e = assertThrows(Exception.class, () -> dumping.get(30, TimeUnit.SECONDS));
        assertTrue(e.getCause() instanceof GuestDumpException, e.toString());
    }

    @Test
    void ctrlCWhenQemuRefusesContPrintsTheCommandNotAClaim() throws Exception {
        qemu.overrides.put("stop", args -> {
            qemu.running = false;
            return FakeQemu.NO_REPLY;
        });
        qemu.overrides.put("cont", args -> new FakeQemu.Error("Resetting the Virtual Machine is required"));
        AtomicReference<QmpSession> session = new AtomicReference<>();
        QmpSession.observer = session::set;
        CompletableFuture<Void> dumping = CompletableFuture.runAsync(() -> run(dir.resolve("vmcore")));
        while (!qemu.log.contains("stop")) {
            Thread.sleep(10);
        }
        String said = session.get().onInterrupt();
        assertFalse(said.contains("running again"), said);
        assertTrue(said.contains("PAUSED") && said.contains("{\"execute\":\"cont\"}") && said.contains(
                "Resetting the Virtual Machine is required"), said);
        assertFalse(qemu.running);
        assertThrows(Exception.class, () -> dumping.get(30, TimeUnit.SECONDS));
    }

    @Test
    void ctrlCBeforeAnyStopDoesNotClaimAResume() throws Exception {
        qemu.overrides.put("query-dump", args -> FakeQemu.NO_REPLY); // held before stop
        AtomicReference<QmpSession> session = new AtomicReference<>();
        QmpSession.observer = session::set;
        CompletableFuture<Void> dumping = CompletableFuture.runAsync(() -> run(dir.resolve("vmcore")));
        while (!qemu.log.contains("query-dump")) {
            Thread.sleep(10);
        }
        assertEquals("interrupted; guestdump had not stopped the guest", session.get().onInterrupt());
        assertFalse(qemu.log.contains("cont"));
        assertFalse(qemu.lockExists);
        assertThrows(Exception.class, () -> dumping.get(30, TimeUnit.SECONDS));
    }

    @Test
    void aContRefusedAfterASuccessfulDumpIsLoudAndKeepsTheFile() {
        qemu.overrides.put("cont", args -> new FakeQemu.Error("Resetting the Virtual Machine is required"));
        Path out = dir.resolve("vmcore");
        GuestLeftPausedException e = assertThrows(GuestLeftPausedException.class, () -> run(out));
        assertNotNull(e.result(), "the result of the written dump");
        assertTrue(Files.isRegularFile(out), "the dump exists");
        assertTrue(e.getMessage().startsWith("the dump was written to " + out) && e.getMessage().contains("PAUSED")
                && e.getMessage().contains("{\"execute\":\"cont\"}"), e.getMessage());
        assertFalse(qemu.lockExists);
    }

    // ---- a killed guestdump is cleaned up after

    private String ownerText(long pid, long start, boolean stops, Path ownerDir, String partial) {
        return new QmpSession.Owner(pid, start, QmpSession.Owner.hostName(), QmpSession.Owner.bootId(), stops,
                ownerDir.toString(), partial, "").text();
    }

    @Test
    void theLockNamesItsOwner() {
        qemu.overrides.put("query-dump", args -> {
            assertTrue(qemu.lockData.matches("guestdump-lock v1 pid=" + ProcessHandle.current().pid()
                    + " start=\\d+ host=\\S+ boot=\\S+ stops=1 dir=\\S+ partial=\\S+"), qemu.lockData);
            QmpSession.Owner o = QmpSession.Owner.parse(qemu.lockData).orElseThrow();
            assertTrue(o.dir().startsWith(dir.resolve("work") + "/guestdump-qmp-"), o.dir());
            assertTrue(o.partial().startsWith(dir + "/.vmcore") && o.partial().endsWith(".partial")
                    && Files.isRegularFile(Path.of(o.partial())), o.partial());
            return Map.of("status", "none", "completed", 0, "total", 0);
        });
        run(dir.resolve("vmcore"));
        assertTrue(qemu.log.contains("query-dump"));
    }

    @Test
    void aLockWhoseOwnerWasKilledIsCleanedUpAndTheGuestItStoppedResumed() throws IOException {
        Path dead = Files.createDirectory(dir.resolve("work").resolve("guestdump-qmp-dead1"));
        Files.writeString(dead.resolve("pmem-3"), "left by the killed guestdump");
        Path deadPartial = Files.writeString(dir.resolve(".other vmcore.123.partial"), "half a dump");
        qemu.status = "running";
        qemu.running = false; // the killed guestdump had stopped it
        qemu.lockExists = true;
        // our own pid with another start time: a pid that was reused
        qemu.lockData = ownerText(ProcessHandle.current().pid(), 1, true, dead, deadPartial.toString());
        qemu.overrides.put("qmp_capabilities", args -> {
            qemu.running = false; // serve() sets running from status on connect
            return Map.of();
        });
        Path out = dir.resolve("vmcore");
        run(out);
        assertTrue(Files.isRegularFile(out));
        assertFalse(Files.exists(dead), "the dead owner's private directory is removed");
        assertFalse(Files.exists(deadPartial), "the dead owner's .partial is removed");
        assertTrue(qemu.running, "the guest the dead owner stopped runs again: " + qemu.log);
        assertFalse(qemu.lockExists);
        List<String> log = List.copyOf(qemu.log);
        assertTrue(log.indexOf("cont") < log.indexOf("object-del"), "resumed before the lock was removed: " + log);
    }

    @Test
    void aLockOfALiveOwnerIsRespected() {
        long start = ProcessHandle.current().info().startInstant().orElseThrow().toEpochMilli();
        qemu.lockExists = true;
        qemu.lockData = ownerText(ProcessHandle.current().pid(), start, true, dir.resolve("work/guestdump-qmp-x"),
                "");
        UnsupportedGuestException e = assertThrows(UnsupportedGuestException.class,
                () -> run(dir.resolve("vmcore")));
        assertTrue(e.getMessage().contains("held by pid " + ProcessHandle.current().pid()), e.getMessage());
        assertTrue(qemu.lockExists);
        assertFalse(qemu.log.contains("stop") || qemu.log.contains("cont") || qemu.log.contains("object-del"),
                qemu.log.toString());
    }

    // ---- another client resuming the guest mid-dump

    @Test
    void aGuestResumedByAnotherClientMidDumpFailsTheDump() throws IOException {
        qemu.overrides.put("query-memdev", args -> {
            try {
                qemu.push(FakeQemu.event("RESUME")); // another client's cont after our stop
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
            return List.of();
        });
        Path out = dir.resolve("vmcore");
        GuestDumpException e = assertThrows(GuestDumpException.class, () -> run(out));
        assertTrue(all(e).contains("the guest ran while guestdump copied its memory (1 RESUME event)"), all(e));
        assertResumedUnlockedAndNoFile(out);
    }

    @Test
    void withWarnAGuestResumedMidDumpIsWrittenWithAWarning() throws IOException {
        qemu.overrides.put("query-memdev", args -> {
            try {
                qemu.push(FakeQemu.event("RESUME"));
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
            return List.of();
        });
        Path out = dir.resolve("vmcore");
        run(out, Map.of("guestdump.source.qmp.guest-ran-during-dump", "warn"));
        assertTrue(Files.isRegularFile(out));
    }

    // ---- the output is checked before the guest is touched

    @Test
    void aMissingOutputDirectoryIsRefusedBeforeTheGuestIsTouched() {
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> run(dir.resolve("missing").resolve("vmcore")));
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
        assertEquals(List.of(), qemu.log, "no QMP command was sent");
    }

    @Test
    void anExistingOutputWithoutForceIsRefusedBeforeTheGuestIsTouched() throws IOException {
        Path out = Files.writeString(dir.resolve("vmcore"), "precious");
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> run(out));
        assertTrue(e.getMessage().contains("already exists"), e.getMessage());
        assertEquals(List.of(), qemu.log);
        assertEquals("precious", Files.readString(out));
    }

    @Test
    void anUnwritableOutputDirectoryIsRefusedBeforeTheGuestIsTouched() {
        // /proc refuses new files even to root, where permission bits would not
        assertThrows(GuestDumpException.class, () -> run(Path.of("/proc/guestdump-vmcore")));
        assertEquals(List.of(), qemu.log);
    }
}
