package io.guestdump.core.source.qmp;

import io.guestdump.core.plugins.ArchitectureRegistry;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A point-in-time copy of a running guest from QEMU's {@code background-snapshot} migration capability (QEMU 6.0+,
 * userfaultfd write protection): QEMU stops the guest for a moment, saves the non-iterable device state (CPUs
 * among it) into a buffer, write-protects the guest's RAM and resumes it; it then sends every RAM page (a page the
 * guest is about to write first, copied before the write) and, after the RAM, the buffered device state. The guest
 * runs all the while; only that first moment is downtime, measured from the {@code STOP} and {@code RESUME} events.
 *
 * <p>QEMU 7.2 has no {@code file:} migration URI: it migrates to a unix socket that guestdump listens on in the
 * session's private directory. The stream is written, as it arrives, to a spool file in the same directory (QEMU's
 * stream itself: only non-zero pages take space, zero pages are a few bytes each) and read through the migration
 * stream parser once complete, because the stream's JSON description, needed to walk the device sections, comes
 * last; the spool is deleted with the private directory when the dump ends.
 *
 * <p>Before the snapshot the capabilities it changes (background-snapshot on, the ones QEMU refuses beside it off)
 * and {@code max-bandwidth} are recorded in the session, which puts them back right after the snapshot, after a
 * failure, and from the Ctrl-C hook (cancelling a snapshot still running first).
 */
final class LiveSnapshot {
    private static final Logger LOG = LoggerFactory.getLogger(LiveSnapshot.class);

    /** The capability that takes the snapshot. */
    static final String CAPABILITY = "background-snapshot";
    /** Capabilities QEMU 7.2 refuses together with background-snapshot ({@code migrate_caps_check}): turned off. */
    static final List<String> INCOMPATIBLE = List.of("postcopy-ram", "dirty-bitmaps", "postcopy-blocktime",
            "late-block-activate", "return-path", "multifd", "pause-before-switchover", "auto-converge",
            "release-ram", "rdma-pin-all", "compress", "xbzrle", "x-colo", "validate-uuid", "zero-copy-send");
    /** {@code max-bandwidth} for the snapshot, bytes per second: no practical limit (2^50, 1 PiB/s). */
    static final long UNLIMITED_BANDWIDTH = 1L << 50;
    /** Migration states in which a migration is under way. */
    static final List<String> ACTIVE = List.of("setup", "active", "pre-switchover", "device", "postcopy-active",
            "postcopy-paused", "postcopy-recover", "wait-unplug", "cancelling");
    /** The spool file in the private directory. */
    static final String SPOOL = "snapshot.mig";

    /** Why a live dump cannot be done (QEMU or the plugin cannot); the message is the one-line reason. */
    static final class Unavailable extends Exception {
        private static final long serialVersionUID = 1L;

        Unavailable(String reason) {
            super(reason);
        }
    }

    /**
     * The snapshot taken.
     *
     * @param spool          the stream, complete, in the private directory
     * @param downtimeMicros the guest's downtime from QEMU's STOP and RESUME event timestamps, or -1 when the events
     *                       were not seen
     * @param qemuDowntimeMs QEMU's own figure ({@code query-migrate}'s {@code downtime}), or -1
     * @param bytes          the stream's length
     * @param nanos          how long the snapshot took, from {@code migrate} to its completion
     */
    record Taken(Path spool, long downtimeMicros, long qemuDowntimeMs, long bytes, long nanos) {}

    private final QmpSession s;
    private final QmpSettings settings;
    /** QEMU's version as {@code query-version} gives it, for messages. */
    private String qemuVersion = "this QEMU";
    /** The last {@code query-migrate} answer of {@link #awaitEnd()}. */
    private Map<String, Object> lastEnd = Map.of();

    LiveSnapshot(QmpSession session, QmpSettings settings) {
        this.s = session;
        this.settings = settings;
    }

    /** Throws the reason when the plugin or QEMU cannot do a live dump (nothing is changed in QEMU). */
    @SuppressWarnings("unchecked")
    void check(ArchitectureRegistry.Loaded plugin) throws IOException, Unavailable {
        if (plugin.arch().migrationCpuSections().isEmpty()) {
            throw new Unavailable("the " + plugin.pluginId() + " plugin reads no vCPU state from a QEMU migration "
                    + "stream");
        }
        Object caps;
        try {
            caps = s.command("query-migrate-capabilities");
        } catch (QmpException e) {
            throw new Unavailable("QEMU lists no migration capabilities (query-migrate-capabilities: "
                    + e.getMessage() + ")");
        }
        boolean offered = false;
        for (Object o : (List<Object>) caps) {
            if (o instanceof Map<?, ?> m && CAPABILITY.equals(m.get("capability"))) {
                offered = true;
            }
        }
        if (!offered) {
            throw new Unavailable("this QEMU offers no " + CAPABILITY + " migration capability (QEMU 6.0 or later "
                    + "has it)");
        }
    }

    /**
     * The migration settings a snapshot may change, with their values now, for the lock's owner record: JSON
     * {@code {"capabilities":{…},"max-bandwidth":n}}; "" when QEMU lists no {@value #CAPABILITY} capability.
     */
    @SuppressWarnings("unchecked")
    static String record(QmpSession s) throws IOException {
        Map<String, Object> caps = new LinkedHashMap<>();
        try {
            for (Object o : (List<Object>) s.command("query-migrate-capabilities")) {
                Map<String, Object> m = (Map<String, Object>) o;
                String name = String.valueOf(m.get("capability"));
                if (name.equals(CAPABILITY) || INCOMPATIBLE.contains(name)) {
                    caps.put(name, Boolean.TRUE.equals(m.get("state")));
                }
            }
            if (!caps.containsKey(CAPABILITY)) {
                return "";
            }
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("capabilities", caps);
            Object bw = ((Map<String, Object>) s.command("query-migrate-parameters")).get("max-bandwidth");
            if (bw instanceof Number n && n.longValue() != UNLIMITED_BANDWIDTH) {
                out.put("max-bandwidth", n.longValue());
            }
            return Json.write(out);
        } catch (QmpException e) {
            return "";
        }
    }

    /**
     * Takes the snapshot: records and changes the capabilities and bandwidth, migrates into the spool, and puts the
     * capabilities and bandwidth back (whatever happened) before returning.
     *
     * @throws Unavailable when QEMU refuses or fails the snapshot (the guest kept running; nothing is left behind)
     */
    @SuppressWarnings("unchecked")
    Taken take() throws IOException, Unavailable {
        Map<String, Boolean> original = new LinkedHashMap<>();
        for (Object o : (List<Object>) s.command("query-migrate-capabilities")) {
            Map<String, Object> m = (Map<String, Object>) o;
            original.put(String.valueOf(m.get("capability")), Boolean.TRUE.equals(m.get("state")));
        }
        Map<String, Object> params = (Map<String, Object>) s.command("query-migrate-parameters");
        Object bw = params.get("max-bandwidth");
        Long bandwidth = bw instanceof Number n ? n.longValue() : null;

        Map<String, Boolean> changed = new LinkedHashMap<>();
        List<Object> set = new ArrayList<>();
        if (!Boolean.TRUE.equals(original.get(CAPABILITY))) {
            changed.put(CAPABILITY, false);
            set.add(Map.of("capability", CAPABILITY, "state", true));
        }
        for (String c : INCOMPATIBLE) {
            if (Boolean.TRUE.equals(original.get(c))) {
                changed.put(c, true);
                set.add(Map.of("capability", c, "state", false));
            }
        }
        boolean canCancel = cancelSafe(s);
        long setupAllowance = settings.stallTimeout().toNanos() + guestRamBytes() / Math.max(1, settings.minRate())
                * 1_000_000_000L;
        Path dir = s.workDir();
        Path sock = dir.resolve("snapshot.sock");
        Path spool = dir.resolve(SPOOL);
        try {
            s.recordMigrationState(changed, bandwidth != null && bandwidth != UNLIMITED_BANDWIDTH ? bandwidth : null);
            if (!set.isEmpty()) {
                try {
                    s.command("migrate-set-capabilities", Map.of("capabilities", set));
                } catch (QmpException e) {
                    throw new Unavailable("QEMU refused the " + CAPABILITY + " capability: " + e.getMessage());
                }
            }
            if (bandwidth != null && bandwidth != UNLIMITED_BANDWIDTH) {
                try {
                    s.command("migrate-set-parameters", Map.of("max-bandwidth", UNLIMITED_BANDWIDTH));
                } catch (QmpException e) {
                    throw new Unavailable("QEMU refused to lift the migration bandwidth limit: " + e.getMessage());
                }
            }
            try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
                server.bind(UnixDomainSocketAddress.of(sock));
                server.configureBlocking(false);
                long mark = s.eventMark();
                long t0 = System.nanoTime();
                s.migrationStarted(canCancel, setupAllowance);
                try {
                    s.migrate(Map.of("uri", "unix:" + sock));
                } catch (QmpException e) {
                    s.migrationEnded();
                    if (s.closing()) {
                        throw e;
                    }
                    throw new Unavailable("QEMU refused the background snapshot: " + e.getMessage());
                }
                long bytes;
                SocketChannel in = accept(server);
                try {
                    try (in; FileChannel out = FileChannel.open(spool, StandardOpenOption.CREATE_NEW,
                            StandardOpenOption.WRITE)) {
                        bytes = copy(in, out, setupAllowance);
                    }
                    if (s.closing()) {
                        throw new QmpException("Interrupted", "the dump was interrupted during the background "
                                + "snapshot");
                    }
                    lastEnd = awaitEnd();
                    Map<String, Object> done = lastEnd;
                    s.migrationEnded();
                    Object status = done.get("status");
                    if (!"completed".equals(status)) {
                        throw new Unavailable("QEMU's background snapshot ended " + status
                                + (done.get("error-desc") != null ? ": " + done.get("error-desc") : ""));
                    }
                } catch (Unavailable e) {
                    if (canCancel) {
                        throw e;
                    }
                    // QEMU connected, so the snapshot may have write-protected the guest's RAM, which QEMU before
                    // 8.1 leaves so when a snapshot does not complete: stopping the guest now would wait for a vCPU
                    // held in that fault forever, with QEMU's big lock held (no more QMP). No fallback.
                    throw new QmpException("LiveSnapshotFailed", e.getMessage() + ". " + qemuVersion
                            + " leaves the guest's memory write-protected after a background snapshot that did not "
                            + "complete (fixed in QEMU 8.1): the guest may hang at its next write to a page not yet "
                            + "saved, so guestdump does not stop it for a dump now. Check the guest; restart it if "
                            + "it hangs");
                }
                long nanos = System.nanoTime() - t0;
                long qemuDowntime = lastEnd.get("downtime") instanceof Number n ? n.longValue() : -1;
                return new Taken(spool, downtime(mark), qemuDowntime, bytes, nanos);
            }
        } catch (Unavailable | IOException | RuntimeException e) {
            Files.deleteIfExists(spool);
            throw e;
        } finally {
            Files.deleteIfExists(sock);
            String problem = s.restoreMigrationState();
            if (problem != null) {
                LOG.warn("{}", problem);
            }
        }
    }

    /** The downtime from the first STOP and the first RESUME after it, in µs, or -1. */
    private long downtime(long mark) {
        long stop = -1;
        for (QmpClient.RunStateEvent e : s.runStateEvents(mark)) {
            if (e.name().equals("STOP") && stop < 0) {
                stop = e.micros();
            } else if (e.name().equals("RESUME") && stop >= 0 && e.micros() >= stop) {
                return e.micros() - stop;
            }
        }
        return -1;
    }

    /** Waits for QEMU to connect; fails when the migration fails first or nothing connects in time. */
    @SuppressWarnings("unchecked")
    private SocketChannel accept(ServerSocketChannel server) throws IOException, Unavailable {
        long deadline = System.nanoTime() + settings.commandTimeout().toNanos();
        long nextPoll = 0;
        while (true) {
            SocketChannel c = server.accept();
            if (c != null) {
                return c;
            }
            long now = System.nanoTime();
            if (now >= nextPoll) {
                Map<String, Object> m = (Map<String, Object>) s.command("query-migrate");
                Object status = m.get("status");
                if ("failed".equals(status) || "cancelled".equals(status)) {
                    throw new Unavailable("QEMU's background snapshot " + status + " before it connected"
                            + (m.get("error-desc") != null ? ": " + m.get("error-desc") : ""));
                }
                nextPoll = now + 200_000_000L;
            }
            if (now > deadline) {
                throw new Unavailable("QEMU did not connect to " + server.getLocalAddress() + " within "
                        + settings.commandTimeout().toSeconds() + " s to send the background snapshot");
            }
            sleep(5);
        }
    }

    /** Copies the stream into the spool until QEMU closes it; a stall longer than the pmemsave stall timeout fails. */
    private long copy(SocketChannel in, FileChannel out, long setupAllowance) throws IOException, Unavailable {
        in.configureBlocking(false);
        ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
        long total = 0;
        long lastData = System.nanoTime();
        IOException spoolFailed = null;
        try (Selector selector = Selector.open()) {
            in.register(selector, SelectionKey.OP_READ);
            while (true) {
                int n = in.read(buf);
                if (n < 0) {
                    break;
                }
                if (n > 0) {
                    lastData = System.nanoTime();
                    total += n;
                    if (buf.remaining() < 64 * 1024) {
                        spoolFailed = drain(buf, out, spoolFailed);
                    }
                    continue;
                }
                spoolFailed = drain(buf, out, spoolFailed);
                selector.select(500);
                selector.selectedKeys().clear();
                // before its first byte QEMU populates the guest's RAM for write protection: 39 s for 2 GiB here
                // under load, so the setup gets the allowance of a pmemsave of the whole RAM
                long allowed = total == 0 ? Math.max(setupAllowance, settings.stallTimeout().toNanos())
                        : settings.stallTimeout().toNanos();
                if (System.nanoTime() - lastData > allowed) {
                    throw new Unavailable("QEMU sent no snapshot data for " + (allowed / 1_000_000_000L)
                            + " s (after " + total + " bytes)");
                }
            }
            spoolFailed = drain(buf, out, spoolFailed);
        }
        if (spoolFailed != null) {
            throw spoolFailed;
        }
        return total;
    }

    /**
     * Writes the buffer to the spool; once writing failed, or once Ctrl-C's cleanup began, the stream is only read
     * (QEMU must be let finish the snapshot, see {@link QmpSession}) and the first failure kept.
     */
    private IOException drain(ByteBuffer buf, FileChannel out, IOException failed) {
        buf.flip();
        if (failed == null && !s.closing()) {
            try {
                while (buf.hasRemaining()) {
                    out.write(buf);
                }
            } catch (IOException e) {
                failed = e;
            }
        }
        buf.clear();
        return failed;
    }

    /** Whether {@code migrate_cancel} is harmless with this QEMU: 8.1 or later (see {@link QmpSession}). */
    @SuppressWarnings("unchecked")
    private boolean cancelSafe(QmpSession session) throws IOException {
        try {
            Object v = session.command("query-version");
            if (v instanceof Map<?, ?> m && m.get("qemu") instanceof Map<?, ?> q
                    && q.get("major") instanceof Number major && q.get("minor") instanceof Number minor) {
                qemuVersion = "QEMU " + major + "." + minor + (q.get("micro") instanceof Number micro ? "." + micro
                        : "");
                return major.intValue() > 8 || (major.intValue() == 8 && minor.intValue() >= 1);
            }
        } catch (QmpException e) {
            LOG.debug("query-version: {}", e.getMessage());
        }
        return false;
    }

    /** The guest's RAM in bytes ({@code query-memory-size-summary}), or 0 when QEMU does not say. */
    private long guestRamBytes() throws IOException {
        try {
            Object m = s.command("query-memory-size-summary");
            if (m instanceof Map<?, ?> mm && mm.get("base-memory") instanceof Number n) {
                return n.longValue();
            }
        } catch (QmpException e) {
            LOG.debug("query-memory-size-summary: {}", e.getMessage());
        }
        return 0;
    }

    /** Waits for the migration to leave the active states after the stream ended; returns query-migrate's answer. */
    @SuppressWarnings("unchecked")
    private Map<String, Object> awaitEnd() throws IOException, Unavailable {
        long deadline = System.nanoTime() + settings.commandTimeout().toNanos();
        while (true) {
            Map<String, Object> m = (Map<String, Object>) s.command("query-migrate");
            Object status = m.get("status");
            if (status == null || !ACTIVE.contains(status.toString())) {
                return m;
            }
            if (System.nanoTime() > deadline) {
                throw new Unavailable("QEMU's background snapshot is still " + status + " "
                        + settings.commandTimeout().toSeconds() + " s after its stream ended");
            }
            sleep(2);
        }
    }

    private static void sleep(long ms) throws IOException {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for the background snapshot", e);
        }
    }
}
