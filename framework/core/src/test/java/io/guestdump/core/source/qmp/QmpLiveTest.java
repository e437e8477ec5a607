package io.guestdump.core.source.qmp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.guestdump.arch.api.UnsupportedGuestException;
import io.guestdump.core.DumpRequest;
import io.guestdump.core.DumpResult;
import io.guestdump.core.GuestDump;
import io.guestdump.core.config.ConfigLoader;
import io.guestdump.core.config.DumpSettings;
import io.guestdump.core.plugins.ArchitectureRegistry;
import io.guestdump.core.vmcore.ProgressListener;
import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The live ({@code --live}) path of the {@code qmp:} source against {@link FakeQemu} with a model of QEMU's migration
 * capabilities and parameters: each reason to fall back to stop–dump–resume, {@code always} failing without stopping
 * the guest, and every capability and {@code max-bandwidth} put back after a failed snapshot and after Ctrl-C.
 */
class QmpLiveTest {
    @TempDir
    Path dir;

    Path socket;
    FakeQemu qemu;
    ArchitectureRegistry registry;
    /** The fake's migration capabilities (QEMU 7.2's names) and max-bandwidth. */
    final Map<String, Boolean> caps = new LinkedHashMap<>();
    volatile long bandwidth = 134217728;
    volatile String migrateStatus = "none";
    volatile String migrateError;
    /** The fake's QEMU version: 8.1 and later cancel a background snapshot cleanly, 7.2 does not. */
    volatile int qemuMajor = 8;
    volatile int qemuMinor = 2;

    @BeforeEach
    void setUp() throws IOException {
        socket = dir.resolve("qmp.sock");
        qemu = new FakeQemu(socket);
        registry = ArchitectureRegistry.load(List.of(), List.of(), com.typesafe.config.ConfigFactory.empty());
        Files.createDirectories(dir.resolve("work"));
        for (String c : List.of("xbzrle", "auto-converge", "events", "postcopy-ram", "background-snapshot",
                "zero-copy-send")) {
            caps.put(c, false);
        }
        caps.put("xbzrle", true); // refused beside background-snapshot: turned off for the snapshot, then back on
        caps.put("events", true); // not touched
        qemu.overrides.put("query-migrate-capabilities", a -> {
            List<Object> out = new ArrayList<>();
            caps.forEach((k, v) -> out.add(Map.of("capability", k, "state", v)));
            return out;
        });
        qemu.overrides.put("migrate-set-capabilities", this::setCapabilities);
        qemu.overrides.put("query-migrate-parameters", a -> Map.of("max-bandwidth", bandwidth,
                "downtime-limit", 300));
        qemu.overrides.put("migrate-set-parameters", a -> {
            if (isActive()) {
                return new FakeQemu.Error("There's a migration process in progress");
            }
            bandwidth = ((Number) a.get("max-bandwidth")).longValue();
            return Map.of();
        });
        qemu.overrides.put("query-migrate", a -> migrateError == null ? Map.of("status", migrateStatus)
                : Map.of("status", migrateStatus, "error-desc", migrateError));
        qemu.overrides.put("query-version", a -> Map.of("qemu", Map.of("major", qemuMajor, "minor", qemuMinor,
                "micro", 0), "package", ""));
        qemu.overrides.put("migrate_cancel", a -> {
            if (isActive()) {
                migrateStatus = "cancelled";
            }
            return Map.of();
        });
    }

    private boolean isActive() {
        return migrateStatus.equals("active") || migrateStatus.equals("setup");
    }

    @SuppressWarnings("unchecked")
    private Object setCapabilities(Map<String, Object> args) {
        if (isActive()) {
            return new FakeQemu.Error("There's a migration process in progress");
        }
        Map<String, Boolean> next = new LinkedHashMap<>(caps);
        for (Object o : (List<Object>) args.get("capabilities")) {
            Map<String, Object> c = (Map<String, Object>) o;
            next.put((String) c.get("capability"), (Boolean) c.get("state"));
        }
        if (next.get("background-snapshot") && next.get("xbzrle")) {
            return new FakeQemu.Error("Background-snapshot is not compatible with xbzrle");
        }
        caps.clear();
        caps.putAll(next);
        return Map.of();
    }

    @AfterEach
    void tearDown() throws IOException {
        QmpSession.observer = s -> {};
        registry.close();
        qemu.close();
    }

    private DumpResult run(String live) {
        var user = ConfigLoader.userLayers(null, List.of(), Map.of(
                "guestdump.source.qmp.greeting-timeout", "300ms",
                "guestdump.source.qmp.command-timeout", "5s",
                "guestdump.source.qmp.work-dir", dir.resolve("work").toString(),
                "guestdump.source.qmp.live", live,
                "guestdump.output.fsync", "false"));
        DumpSettings settings = DumpSettings.from(ConfigLoader.withReference(user, getClass().getClassLoader()), dir,
                dir);
        return new GuestDump(settings, registry).dump(new DumpRequest(Optional.of("qmp:" + socket),
                dir.resolve("vmcore").toString(), Optional.empty(), Optional.empty(), true), ProgressListener.NONE);
    }

    private void assertRestoredAndClean(Map<String, Boolean> before, long bandwidthBefore) throws IOException {
        assertEquals(before, caps, "every migration capability as it was");
        assertEquals(bandwidthBefore, bandwidth, "max-bandwidth as it was");
        assertFalse(qemu.lockExists, "the lock object is gone");
        try (Stream<Path> s = Files.list(dir.resolve("work"))) {
            assertEquals(List.of(), s.toList(), "the private directory (socket, spool) is removed");
        }
    }

    @Test
    void neverDoesNotAskForTheCapability() {
        DumpResult r = run("never");
        assertFalse(qemu.log.contains("query-migrate-capabilities"), qemu.log.toString());
        assertTrue(qemu.log.contains("stop") && qemu.running, qemu.log.toString());
        assertEquals("stopped for the dump (--live=never)", r.capture());
    }

    @Test
    void aQemuWithoutTheCapabilityFallsBackWithAReason() throws IOException {
        caps.remove("background-snapshot");
        Map<String, Boolean> before = new LinkedHashMap<>(caps);
        DumpResult r = run("auto");
        assertEquals("stopped for the dump (no live dump: this QEMU offers no background-snapshot migration "
                + "capability (QEMU 6.0 or later has it))", r.capture());
        assertTrue(qemu.log.contains("stop") && qemu.running, qemu.log.toString());
        assertFalse(qemu.log.contains("migrate-set-capabilities"), qemu.log.toString());
        assertRestoredAndClean(before, 134217728);
    }

    @Test
    void alwaysFailsWithoutStoppingTheGuest() throws IOException {
        caps.remove("background-snapshot");
        UnsupportedGuestException e = assertThrows(UnsupportedGuestException.class, () -> run("always"));
        assertTrue(e.getMessage().contains("no live dump possible (this QEMU offers no background-snapshot")
                && e.getMessage().contains("--live=always forbids stopping the guest; the guest was not stopped"),
                e.getMessage());
        assertFalse(qemu.log.contains("stop"), qemu.log.toString());
        assertTrue(qemu.running);
        assertFalse(Files.exists(dir.resolve("vmcore")));
    }

    @Test
    void aRefusedCapabilityFallsBackAndChangesNothing() throws IOException {
        Map<String, Boolean> before = new LinkedHashMap<>(caps);
        qemu.overrides.put("migrate-set-capabilities", a -> {
            Object first = ((List<?>) a.get("capabilities")).get(0);
            if (first instanceof Map<?, ?> m && m.get("capability").equals("background-snapshot")
                    && Boolean.TRUE.equals(m.get("state"))) {
                return new FakeQemu.Error("Background-snapshot is not supported by host kernel");
            }
            return setCapabilities(a);
        });
        DumpResult r = run("auto");
        assertEquals("stopped for the dump (no live dump: QEMU refused the background-snapshot capability: "
                + "Background-snapshot is not supported by host kernel)", r.capture());
        assertRestoredAndClean(before, 134217728);
        assertTrue(qemu.running);
    }

    @Test
    void aFailedSnapshotRestoresCapabilitiesAndBandwidthThenStopsTheGuest() throws IOException {
        Map<String, Boolean> before = new LinkedHashMap<>(caps);
        List<String> during = new ArrayList<>();
        qemu.overrides.put("migrate", a -> {
            during.add(caps + " bw=" + bandwidth);
            migrateStatus = "failed";
            migrateError = "Failed to connect to socket: Permission denied";
            return Map.of();
        });
        DumpResult r = run("auto");
        assertEquals(List.of("{xbzrle=false, auto-converge=false, events=true, postcopy-ram=false, "
                + "background-snapshot=true, zero-copy-send=false} bw=" + LiveSnapshot.UNLIMITED_BANDWIDTH), during,
                "the snapshot runs with background-snapshot on, xbzrle off and no bandwidth limit");
        assertEquals("stopped for the dump (no live dump: QEMU's background snapshot failed before it connected: "
                + "Failed to connect to socket: Permission denied)", r.capture());
        assertRestoredAndClean(before, 134217728);
        assertTrue(qemu.log.indexOf("stop") > qemu.log.lastIndexOf("migrate-set-parameters"), qemu.log.toString());
        assertTrue(qemu.running);
    }

    @Test
    void alwaysAfterAFailedSnapshotRestoresAndFails() throws IOException {
        Map<String, Boolean> before = new LinkedHashMap<>(caps);
        qemu.overrides.put("migrate", a -> new FakeQemu.Error("disk quota"));
        UnsupportedGuestException e = assertThrows(UnsupportedGuestException.class, () -> run("always"));
        assertTrue(e.getMessage().contains("QEMU refused the background snapshot: disk quota"), e.getMessage());
        assertRestoredAndClean(before, 134217728);
        assertFalse(qemu.log.contains("stop"), qemu.log.toString());
    }

    /** The stream QEMU writes, held after its header, and the dump reading it (its failure, or null). */
    private record HeldSnapshot(SocketChannel stream, CompletableFuture<Throwable> dump) {}

    /** Starts an {@code auto} dump whose snapshot stream QEMU holds after the header: the dump waits there. */
    private HeldSnapshot startSnapshotHeldAfterItsHeader() throws Exception {
        CompletableFuture<SocketChannel> qemuSide = new CompletableFuture<>();
        qemu.overrides.put("migrate", a -> {
            migrateStatus = "active";
            String uri = (String) a.get("uri");
            try {
                SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(uri.substring("unix:".length())));
                c.write(ByteBuffer.wrap(new byte[] {'Q', 'E', 'V', 'M', 0, 0, 0, 3})); // then nothing: held there
                qemuSide.complete(c);
            } catch (IOException e) {
                qemuSide.completeExceptionally(e);
            }
            return Map.of();
        });
        CompletableFuture<Throwable> dump = CompletableFuture.supplyAsync(() -> {
            try {
                run("auto");
                return null;
            } catch (RuntimeException e) {
                return e;
            }
        });
        return new HeldSnapshot(qemuSide.get(20, java.util.concurrent.TimeUnit.SECONDS), dump);
    }

    @Test
    void ctrlCDuringTheSnapshotCancelsItAndRestores() throws Exception {
        Map<String, Boolean> before = new LinkedHashMap<>(caps);
        AtomicReference<QmpSession> session = new AtomicReference<>();
        QmpSession.observer = session::set;
        HeldSnapshot h = startSnapshotHeldAfterItsHeader();
        SocketChannel held = h.stream();
        CompletableFuture<Throwable> dump = h.dump();
        assertEquals("active", migrateStatus);
        String said = session.get().onInterrupt(); // what the shutdown hook does on SIGINT
        assertEquals("interrupted; guestdump had not stopped the guest", said);
        assertEquals("cancelled", migrateStatus, "the snapshot was cancelled");
        assertEquals(before, caps, "every migration capability as it was");
        assertEquals(134217728, bandwidth, "max-bandwidth as it was");
        held.close();
        assertTrue(dump.get(30, java.util.concurrent.TimeUnit.SECONDS) != null, "the dump failed");
        assertTrue(qemu.running);
        assertFalse(qemu.log.contains("stop"), qemu.log.toString());
        assertFalse(qemu.lockExists);
    }

    @Test
    void ctrlCWithQemu72LetsTheSnapshotFinishInsteadOfCancellingIt() throws Exception {
        // QEMU 7.2 leaves the guest's RAM write-protected after migrate_cancel (the guest hangs, then QMP with it)
        qemuMajor = 7;
        Map<String, Boolean> before = new LinkedHashMap<>(caps);
        AtomicReference<QmpSession> session = new AtomicReference<>();
        QmpSession.observer = session::set;
        HeldSnapshot h = startSnapshotHeldAfterItsHeader();
        SocketChannel held = h.stream();
        CompletableFuture<Throwable> dump = h.dump();
        int queriesBefore = java.util.Collections.frequency(List.copyOf(qemu.log), "query-migrate");
        CompletableFuture<String> hook = CompletableFuture.supplyAsync(() -> session.get().onInterrupt());
        // the hook waits for the snapshot, asking QEMU how it goes, and cancels nothing
        while (java.util.Collections.frequency(List.copyOf(qemu.log), "query-migrate") < queriesBefore + 2) {
            assertFalse(hook.isDone(), "the hook must wait for the snapshot: " + qemu.log);
            Thread.sleep(5);
        }
        assertEquals("active", migrateStatus);
        assertFalse(qemu.log.contains("migrate_cancel"), qemu.log.toString());
        held.write(ByteBuffer.wrap(new byte[4096])); // QEMU goes on: the reader discards the rest
        held.close();
        migrateStatus = "completed";
        assertEquals("interrupted; guestdump had not stopped the guest", hook.get(20,
                java.util.concurrent.TimeUnit.SECONDS));
        assertFalse(qemu.log.contains("migrate_cancel"), qemu.log.toString());
        assertEquals(before, caps, "every migration capability as it was");
        assertEquals(134217728, bandwidth, "max-bandwidth as it was");
        assertTrue(dump.get(30, java.util.concurrent.TimeUnit.SECONDS) != null, "the dump failed");
        assertTrue(qemu.running);
        assertFalse(qemu.log.contains("stop"), qemu.log.toString());
        assertFalse(qemu.lockExists);
        assertFalse(Files.exists(dir.resolve("vmcore")));
    }

    @Test
    void aSnapshotFailingAfterQemu72ConnectedIsNoReasonToStopTheGuest() throws Exception {
        // after QEMU 7.2 connected, a snapshot that does not complete may leave a vCPU waiting on a write-protected
        // page forever: a stop would then wait for it with QEMU's big lock held
        qemuMajor = 7;
        Map<String, Boolean> before = new LinkedHashMap<>(caps);
        qemu.overrides.put("migrate", a -> {
            String uri = (String) a.get("uri");
            try (SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(uri.substring("unix:".length())))) {
                c.write(ByteBuffer.wrap(new byte[] {'Q', 'E', 'V', 'M', 0, 0, 0, 3}));
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
            migrateStatus = "failed";
            migrateError = "Unable to write to socket: Broken pipe";
            return Map.of();
        });
        RuntimeException e = assertThrows(RuntimeException.class, () -> run("auto"));
        assertTrue(e.getMessage().contains("QEMU's background snapshot ended failed: Unable to write to socket: "
                + "Broken pipe. QEMU 7.2.0 leaves the guest's memory write-protected"), e.getMessage());
        assertFalse(qemu.log.contains("stop"), qemu.log.toString());
        assertRestoredAndClean(before, 134217728);
        assertTrue(qemu.running);
    }

    @Test
    void theNextGuestdumpRestoresWhatAKilledLiveDumpChanged() throws IOException {
        Map<String, Boolean> before = new LinkedHashMap<>(caps);
        // as a live dump killed with SIGKILL leaves QEMU: its snapshot running, background-snapshot on, xbzrle off,
        // no bandwidth limit, and its lock naming what to put back
        caps.put("background-snapshot", true);
        caps.put("xbzrle", false);
        bandwidth = LiveSnapshot.UNLIMITED_BANDWIDTH;
        migrateStatus = "active";
        qemu.lockExists = true;
        qemu.lockData = new QmpSession.Owner(ProcessHandle.current().pid(), 1, QmpSession.Owner.hostName(),
                QmpSession.Owner.bootId(), true, dir.resolve("work/guestdump-qmp-dead").toString(), "",
                "{\"capabilities\":{\"background-snapshot\":false,\"xbzrle\":true},\"max-bandwidth\":134217728}")
                .text();
        List<String> recorded = new ArrayList<>();
        qemu.overrides.put("migrate", a -> {
            recorded.add(qemu.lockData);
            return new FakeQemu.Error("stopped here");
        });
        DumpResult r = run("auto");
        assertEquals("cancelled", migrateStatus, "the killed dump's snapshot was cancelled");
        assertTrue(r.capture().contains("QEMU refused the background snapshot: stopped here"), r.capture());
        assertEquals(1, recorded.size());
        assertTrue(recorded.get(0).contains(" live=" + java.net.URLEncoder.encode("{\"capabilities\":{"
                + "\"xbzrle\":true,\"auto-converge\":false,\"postcopy-ram\":false,\"background-snapshot\":false,"
                + "\"zero-copy-send\":false},"
                + "\"max-bandwidth\":134217728}", java.nio.charset.StandardCharsets.UTF_8)), "this dump's lock records "
                + "the values before the killed one's changes: " + recorded);
        assertRestoredAndClean(before, 134217728);
    }
}
