package io.guestdump.core.source.qmp;

import io.guestdump.arch.api.UnsupportedGuestException;
import io.guestdump.core.GuestLeftPausedException;
import io.guestdump.core.source.GuestSessionCheck;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One dump's hold on a live guest: the QMP connection, the lock object, whether we stopped the guest, the private
 * directory and the pipe reader. {@link #close()} undoes it all, at the end of a dump, after a failure, or from a
 * shutdown hook (Ctrl-C): it ends a running {@code pmemsave}, resumes the guest if we stopped it (or asked QEMU to
 * and were interrupted before the answer), and removes the lock. What it reports about the guest is what QEMU's
 * {@code query-status} says afterwards, never an assumption.
 *
 * <p>The lock object is a QOM {@code secret} whose data names its owner (see {@link Owner}): a guestdump killed
 * with SIGKILL cannot clean up, and the next guestdump on the same host recognises the dead owner, removes its lock
 * and private directory, and resumes the guest if the owner had stopped it.
 */
final class QmpSession implements Closeable, GuestSessionCheck {
    private static final Logger LOG = LoggerFactory.getLogger(QmpSession.class);
    /** Sees every session as it is made (tests drive the shutdown hook with it); does nothing otherwise. */
    static volatile Consumer<QmpSession> observer = s -> {};

    private volatile QmpClient client;
    private final QmpSettings settings;
    private final List<Closeable> files = new ArrayList<>();
    private final Thread hook;
    private Path workDir;
    private PmemsaveMemory pmemsave;
    private volatile boolean locked;
    /** {@code stop} was sent: whether it took effect is unknown until QEMU answers or query-status says. */
    private volatile boolean stopSent;
    private volatile boolean stoppedByUs;
    /** RESUME events seen before the guest was (found or made) stopped for the dump. */
    private volatile long resumesAtStop = -1;
    private boolean closed;

    private final Optional<Path> partial;

    /** Migration capabilities a live snapshot changed, with their values before; null when none was changed. */
    private Map<String, Boolean> migrationCaps;
    /** The {@code max-bandwidth} before a live snapshot lifted it; null when it was not changed. */
    private Long migrationBandwidth;
    /** A live snapshot's migration was started and has not been seen to end. */
    private volatile boolean migrating;
    /**
     * Whether {@code migrate_cancel} ends the running snapshot without harm. QEMU before 8.1 leaves the guest's RAM
     * write-protected after a background snapshot that did not complete (its {@code ram_write_tracking_stop} runs
     * only on completion; fixed by "migration: stop tracking ram writes when cancelling background migration"): the
     * first vCPU write to a page not yet saved then waits forever in the host kernel, and the next {@code stop} (ours,
     * or anyone's) waits for that vCPU with QEMU's big lock held, so QEMU stops answering QMP. With such a QEMU a
     * snapshot is let finish and its stream discarded instead.
     */
    private volatile boolean cancelSafe = true;
    /** How long a snapshot may show no progress in its setup (before its first byte), nanoseconds. */
    private volatile long setupAllowance;
    /** Ctrl-C's cleanup began: a snapshot still streaming is discarded. */
    private volatile boolean closing;
    /** The summary's capture remark. */
    private volatile String capture;

    QmpSession(QmpClient client, QmpSettings settings, Optional<Path> partial) {
        this.client = client;
        this.settings = settings;
        this.partial = partial;
        this.hook = new Thread(this::interrupted, "guestdump-qmp-resume");
        Runtime.getRuntime().addShutdownHook(hook);
        observer.accept(this);
    }

    /** Runs a quick command. */
    Object command(String name) throws IOException {
        return client.execute(name, Map.of(), settings.commandTimeout());
    }

    /** Runs a quick command with arguments. */
    Object command(String name, Map<String, Object> arguments) throws IOException {
        return client.execute(name, arguments, settings.commandTimeout());
    }

    /** Runs an HMP command and returns its text. */
    String hmp(String commandLine) throws IOException {
        return command("human-monitor-command", Map.of("command-line", commandLine)).toString();
    }

    /** A string member of a reply object. */
    @SuppressWarnings("unchecked")
    String string(Object reply, String member) {
        Object v = reply instanceof Map ? ((Map<String, Object>) reply).get(member) : null;
        if (v == null) {
            throw new QmpException("UnexpectedReply", "QEMU's reply " + reply + " has no '" + member + "'");
        }
        return v.toString();
    }

    /**
     * Who holds a lock: written into the lock object's data when it is taken, read back by the next guestdump when
     * the lock exists.
     *
     * @param pid   the owner's process id
     * @param start the owner's process start time (epoch ms; a reused pid has another)
     * @param host  the owner's host name
     * @param boot  the owner host's boot id ({@code /proc/sys/kernel/random/boot_id})
     * @param stops whether the owner found the guest running and stops it for its dump
     * @param dir     the owner's private directory (pipes, probe file)
     * @param partial the owner's temporary output file, or "" (standard output)
     * @param live    the migration settings a live snapshot of the owner may change, with their values before
     *                (JSON: {@code {"capabilities":{name:bool…},"max-bandwidth":n}}), or "" when it takes none
     */
    record Owner(long pid, long start, String host, String boot, boolean stops, String dir, String partial,
            String live) {
        private static final Pattern FORM = Pattern.compile("guestdump-lock v1 pid=(\\d+) start=(\\d+) host=(\\S+) "
                + "boot=(\\S+) stops=([01]) dir=(\\S+)(?: partial=(\\S*))?(?: live=(\\S*))?");

        /** This process. */
        static Owner self(boolean stops, Path dir, Optional<Path> partial, String live) {
            ProcessHandle me = ProcessHandle.current();
            return new Owner(me.pid(), startOf(me).orElse(0L), hostName(), bootId(), stops, dir.toString(),
                    partial.map(Path::toString).orElse(""), live);
        }

        /** The lock's data: paths URL-encoded, so that the fields stay separated by spaces. */
        String text() {
            return "guestdump-lock v1 pid=" + pid + " start=" + start + " host=" + host + " boot=" + boot + " stops="
                    + (stops ? 1 : 0) + " dir=" + encode(dir) + " partial=" + encode(partial)
                    + (live.isEmpty() ? "" : " live=" + encode(live));
        }

        static Optional<Owner> parse(String text) {
            Matcher m = FORM.matcher(text);
            if (!m.matches()) {
                return Optional.empty();
            }
            try {
                return Optional.of(new Owner(Long.parseLong(m.group(1)), Long.parseLong(m.group(2)), m.group(3),
                        m.group(4), m.group(5).equals("1"), decode(m.group(6)), m.group(7) == null ? ""
                                : decode(m.group(7)), m.group(8) == null ? "" : decode(m.group(8))));
            } catch (IllegalArgumentException e) {
                return Optional.empty();
            }
        }

        private static String encode(String s) {
            return java.net.URLEncoder.encode(s, java.nio.charset.StandardCharsets.UTF_8);
        }

        private static String decode(String s) {
            return java.net.URLDecoder.decode(s, java.nio.charset.StandardCharsets.UTF_8);
        }

        /** Whether this owner, on this host, is certainly gone (no process with its pid and start time). */
        boolean isGone() {
            if (!host.equals(hostName())) {
                return false; // another host: nothing can be known
            }
            if (!boot.equals(bootId())) {
                return true; // the host rebooted since
            }
            Optional<ProcessHandle> p = ProcessHandle.of(pid);
            if (p.isEmpty() || !p.get().isAlive()) {
                return true;
            }
            Optional<Long> started = startOf(p.get());
            return started.isPresent() && Math.abs(started.get() - start) > 1000; // the pid was reused
        }

        private static Optional<Long> startOf(ProcessHandle p) {
            return p.info().startInstant().map(java.time.Instant::toEpochMilli);
        }

        static String hostName() {
            return firstLine("/proc/sys/kernel/hostname").orElse("unknown").replaceAll("\\s", "_");
        }

        static String bootId() {
            return firstLine("/proc/sys/kernel/random/boot_id").orElse("unknown");
        }

        private static Optional<String> firstLine(String file) {
            try {
                String t = Files.readString(Path.of(file)).trim();
                return t.isEmpty() ? Optional.empty() : Optional.of(t);
            } catch (IOException | RuntimeException e) {
                return Optional.empty();
            }
        }
    }

    /**
     * Marks the guest as being dumped; refuses when another live guestdump holds the mark, and cleans up after one
     * that is gone (killed with SIGKILL).
     */
    void lock() throws IOException {
        lock(() -> "");
    }

    /** What a lock records of the migration settings a live snapshot may change (read before the lock is taken). */
    interface LiveRecord {
        String get() throws IOException;
    }

    /**
     * {@link #lock()}, recording {@code live}'s migration settings in the owner, so that the next guestdump restores
     * them if this one is killed during a live snapshot.
     */
    void lock(LiveRecord live) throws IOException {
        for (int attempt = 0; ; attempt++) {
            Object status = command("query-status");
            boolean running = status instanceof Map<?, ?> m && Boolean.TRUE.equals(m.get("running"));
            Owner me = Owner.self(running, workDir(), partial, running ? live.get() : "");
            try {
                command("object-add", Map.of("qom-type", "secret", "id", settings.lockObject(), "data", me.text()));
                locked = true;
                return;
            } catch (QmpException e) {
                if (!(e.getMessage().contains("duplicate") || e.getMessage().contains("already"))) {
                    throw e;
                }
                Optional<Owner> owner = lockOwner();
                if (attempt == 0 && owner.isPresent() && owner.get().isGone()) {
                    cleanUpAfter(owner.get());
                    continue;
                }
                throw new UnsupportedGuestException("the guest behind " + client.socket() + " is being dumped by "
                        + "another guestdump (QOM object '" + settings.lockObject() + "' exists"
                        + owner.map(o -> ", held by pid " + o.pid() + " on " + o.host()).orElse("") + "); wait for "
                        + "that dump to finish. If no guestdump is running (one was killed on another host), remove "
                        + "the mark with {\"execute\":\"object-del\",\"arguments\":{\"id\":\"" + settings.lockObject()
                        + "\"}}" + owner.filter(Owner::stops).map(o -> " and resume the guest with "
                                + "{\"execute\":\"cont\"} if it is paused").orElse(""));
            }
        }
    }

    private Optional<Owner> lockOwner() {
        try {
            Object data = command("qom-get", Map.of("path", "/objects/" + settings.lockObject(), "property", "data"));
            return Owner.parse(String.valueOf(data));
        } catch (IOException | RuntimeException e) {
            LOG.debug("cannot read the lock's owner: {}", e.getMessage());
            return Optional.empty();
        }
    }

    /** Undoes what a dead owner left: the guest it stopped, its lock, its private directory. */
    private void cleanUpAfter(Owner dead) throws IOException {
        Object status = command("query-status");
        String state = status instanceof Map<?, ?> m ? String.valueOf(m.get("status")) : "";
        boolean resumed = false;
        if (dead.stops() && state.equals("paused")) {
            command("cont");
            resumed = true;
        }
        String migration = dead.live().isEmpty() ? "" : restoreAfter(dead.live());
        command("object-del", Map.of("id", settings.lockObject()));
        Path dir = Path.of(dead.dir());
        boolean removed = false;
        if (dir.getFileName() != null && dir.getFileName().toString().startsWith("guestdump-qmp-")
                && Files.isDirectory(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            removed = deleteTree(dir);
        }
        Path part = dead.partial().isEmpty() ? null : Path.of(dead.partial());
        boolean partRemoved = false;
        if (part != null && part.getFileName() != null && part.getFileName().toString().endsWith(".partial")
                && Files.isRegularFile(part, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            try {
                partRemoved = Files.deleteIfExists(part);
            } catch (IOException e) {
                LOG.debug("could not remove {}: {}", part, e.getMessage());
            }
        }
        LOG.warn("the guest's lock was held by guestdump pid {} (started {}), which is gone (killed?): removed its "
                + "lock{}{}{}{}", dead.pid(), java.time.Instant.ofEpochMilli(dead.start()), removed ? ", " + dir : "",
                partRemoved ? ", " + part : "", migration,
                resumed ? "; resumed the guest it had stopped" : dead.stops() ? "; the guest it had stopped is "
                        + state + " now, left as it is" : "");
    }

    /**
     * Puts back the migration settings a dead owner recorded: cancels its snapshot if one still runs, then sets the
     * capabilities and {@code max-bandwidth} to the recorded values. Returns a remark for the log.
     */
    @SuppressWarnings("unchecked")
    private String restoreAfter(String recorded) {
        try {
            Map<String, Object> r = (Map<String, Object>) Json.parse(recorded);
            Map<String, Boolean> caps = new java.util.LinkedHashMap<>();
            ((Map<String, Object>) r.get("capabilities")).forEach((k, v) -> caps.put(k, Boolean.TRUE.equals(v)));
            Object bw = r.get("max-bandwidth");
            recordMigrationState(caps, bw instanceof Number n ? n.longValue() : null);
            Object m = command("query-migrate");
            Object st = m instanceof Map<?, ?> mm ? mm.get("status") : null;
            migrating = st != null && LiveSnapshot.ACTIVE.contains(st.toString());
            String problem = restoreMigrationState();
            return problem == null ? "; restored the migration settings its live snapshot had changed"
                    + (st != null && LiveSnapshot.ACTIVE.contains(st.toString()) ? " (and cancelled the snapshot)" : "")
                    : "; " + problem;
        } catch (IOException | RuntimeException e) {
            return "; could not restore the migration settings it recorded (" + recorded + "): " + e.getMessage();
        }
    }

    /**
     * Stops the guest if it runs, and remembers to resume it. Ordered with the cleanup: after Ctrl-C's cleanup began
     * (a live snapshot cancelled, say) nothing is stopped any more; a stop sent before it is resumed by it.
     */
    void stopIfRunning() throws IOException {
        Object status = command("query-status");
        if (status instanceof Map<?, ?> m && Boolean.TRUE.equals(m.get("running"))) {
            synchronized (this) {
                if (closed) {
                    throw new QmpException("Interrupted", "the dump was interrupted; the guest was not stopped");
                }
                stopSent = true;
            }
            command("stop");
            stoppedByUs = true;
            LOG.info("stopped the running guest for the dump; it is resumed afterwards");
        }
        resumesAtStop = client.resumeEvents();
    }

    /** Whether this session stopped the guest. */
    boolean stoppedByUs() {
        return stoppedByUs;
    }

    /**
     * Checks that the guest did not run while its memory was copied (another QMP client's {@code cont}): a
     * {@code RESUME} event since it was stopped, or {@code query-status} saying it runs. Fails the dump, or warns
     * where {@code guest-ran-during-dump = warn}.
     */
    @Override
    public void checkConsistent() throws IOException {
        if (resumesAtStop < 0) {
            return;
        }
        if (pmemsave != null) {
            pmemsave.endReading(); // a pmemsave still writing its pipe would hold this command's answer
        }
        Object status = command("query-status"); // its reply comes after every event QEMU sent before it
        boolean runs = status instanceof Map<?, ?> m && Boolean.TRUE.equals(m.get("running"));
        long resumes = client.resumeEvents() - resumesAtStop;
        if (!runs && resumes == 0) {
            return;
        }
        String what = "the guest ran while guestdump copied its memory (" + (resumes > 0 ? resumes + " RESUME event"
                + (resumes == 1 ? "" : "s") : "") + (resumes > 0 && runs ? ", " : "") + (runs ? "query-status: running"
                : "") + "): another QMP client resumed it, so the dump mixes memory from different moments";
        if (settings.guestRan().equals("warn")) {
            LOG.warn("WARNING: {}; written anyway (guestdump.source.qmp.guest-ran-during-dump = warn)", what);
            return;
        }
        throw new QmpException("GuestRan", what + "; no file is written. Keep other clients from resuming the guest "
                + "during the dump, or set guestdump.source.qmp.guest-ran-during-dump = warn to keep such dumps");
    }

    /** Marks the point after which {@link #runStateEvents} looks. */
    long eventMark() {
        return client.eventMark();
    }

    /** The STOP and RESUME events since {@code mark}. */
    List<QmpClient.RunStateEvent> runStateEvents(long mark) {
        return client.runStateEvents(mark);
    }

    /**
     * Records what a live snapshot is about to change, so that {@link #restoreMigrationState} (also from the Ctrl-C
     * hook) puts it back.
     *
     * @param capabilities the capabilities to change, with their values now
     * @param bandwidth    {@code max-bandwidth} now, or null when it is not changed
     */
    synchronized void recordMigrationState(Map<String, Boolean> capabilities, Long bandwidth) {
        migrationCaps = new java.util.LinkedHashMap<>(capabilities);
        migrationBandwidth = bandwidth;
    }

    /**
     * The snapshot's {@code migrate} is about to be sent.
     *
     * @param canCancel         whether {@code migrate_cancel} is harmless with this QEMU (8.1 or later)
     * @param setupAllowanceNs  how long the snapshot may show no progress before its first byte
     */
    void migrationStarted(boolean canCancel, long setupAllowanceNs) {
        cancelSafe = canCancel;
        setupAllowance = setupAllowanceNs;
        migrating = true;
    }

    /**
     * Sends the snapshot's {@code migrate}, ordered with Ctrl-C's cleanup: once the cleanup began nothing is started
     * (a snapshot nobody reads could not be cancelled safely, see {@link #cancelSafe}); a snapshot started before it
     * is seen by it.
     */
    synchronized void migrate(Map<String, Object> arguments) throws IOException {
        if (closed) {
            throw new QmpException("Interrupted", "the dump was interrupted; no snapshot was started");
        }
        command("migrate", arguments);
    }

    /** Whether Ctrl-C's cleanup began (the snapshot's stream is then read and discarded). */
    boolean closing() {
        return closing;
    }

    /** The snapshot's migration ended (completed, failed, or was never started). */
    void migrationEnded() {
        migrating = false;
    }

    /** Sets the summary's capture remark. */
    void capture(String remark) {
        capture = remark;
    }

    @Override
    public String capture() {
        return capture;
    }

    /**
     * Cancels a live snapshot still under way and puts back the migration capabilities and {@code max-bandwidth} it
     * changed; does it once. Returns a message naming what could not be restored, or null.
     */
    synchronized String restoreMigrationState() {
        if (migrationCaps == null && migrationBandwidth == null) {
            return null;
        }
        List<String> failed = new ArrayList<>();
        try {
            if (migrating && !cancelSafe) {
                // QEMU before 8.1: a cancelled snapshot leaves the guest's RAM write-protected (see cancelSafe), so
                // it is let finish while the dump's reader discards the stream
                if (awaitSnapshotEnd()) {
                    migrating = false;
                } else {
                    LOG.warn("QEMU's background snapshot made no progress for {} s; cancelling it. QEMU before 8.1 "
                            + "leaves the guest's memory write-protected after a cancelled snapshot: the guest may "
                            + "hang (restart it if it does)", settings.stallTimeout().toSeconds());
                }
            }
            if (migrating) {
                command("migrate_cancel");
                long deadline = System.nanoTime() + settings.commandTimeout().toNanos();
                while (System.nanoTime() < deadline) {
                    Object m = command("query-migrate");
                    Object st = m instanceof Map<?, ?> mm ? mm.get("status") : null;
                    if (st == null || !LiveSnapshot.ACTIVE.contains(st.toString())) {
                        break;
                    }
                    Thread.sleep(5);
                }
                migrating = false;
            }
        } catch (IOException | RuntimeException e) {
            failed.add("cancelling the snapshot (" + e.getMessage() + "): run {\"execute\":\"migrate_cancel\"}");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (migrationCaps != null && !migrationCaps.isEmpty()) {
            List<Object> caps = new ArrayList<>();
            migrationCaps.forEach((k, v) -> caps.add(Map.of("capability", k, "state", v)));
            try {
                command("migrate-set-capabilities", Map.of("capabilities", caps));
            } catch (IOException | RuntimeException e) {
                failed.add("the migration capabilities (" + e.getMessage() + "): run {\"execute\":"
                        + "\"migrate-set-capabilities\",\"arguments\":" + Json.write(Map.of("capabilities", caps))
                        + "}");
            }
        }
        if (migrationBandwidth != null) {
            try {
                command("migrate-set-parameters", Map.of("max-bandwidth", migrationBandwidth));
            } catch (IOException | RuntimeException e) {
                failed.add("max-bandwidth (" + e.getMessage() + "): run {\"execute\":\"migrate-set-parameters\","
                        + "\"arguments\":{\"max-bandwidth\":" + migrationBandwidth + "}}");
            }
        }
        migrationCaps = null;
        migrationBandwidth = null;
        return failed.isEmpty() ? null : "could not restore what the live snapshot changed in QEMU's migration "
                + "settings: " + String.join("; ", failed);
    }

    /**
     * Waits for a running snapshot to end by itself while it makes progress (its {@code ram.transferred} grows, or,
     * before its first byte, within the setup allowance); false when it stalled.
     */
    @SuppressWarnings("unchecked")
    private boolean awaitSnapshotEnd() throws IOException, InterruptedException {
        Object last = null;
        long lastProgress = System.nanoTime();
        while (true) {
            Object reply = command("query-migrate");
            Map<String, Object> m = reply instanceof Map<?, ?> mm ? (Map<String, Object>) mm : Map.of();
            Object st = m.get("status");
            if (st == null || !LiveSnapshot.ACTIVE.contains(st.toString())) {
                return true;
            }
            Object transferred = m.get("ram") instanceof Map<?, ?> r ? r.get("transferred") : null;
            long now = System.nanoTime();
            boolean started = transferred instanceof Number n && n.longValue() > 0;
            if (!java.util.Objects.equals(transferred, last)) {
                last = transferred;
                lastProgress = now;
            } else if (now - lastProgress > (started ? settings.stallTimeout().toNanos()
                    : Math.max(setupAllowance, settings.stallTimeout().toNanos()))) {
                return false;
            }
            Thread.sleep(50);
        }
    }

    /** The private directory (made on first use). */
    synchronized Path workDir() throws IOException {
        if (workDir == null) {
            workDir = QmpSource.privateDir(settings.workDir());
        }
        return workDir;
    }

    /** The pmemsave reader of this session. */
    synchronized PmemsaveMemory pmemsave() throws IOException {
        if (closed) {
            // after Ctrl-C's cleanup: a pmemsave into the removed directory would block QEMU on its FIFO
            throw new QmpException("Interrupted", "the dump was interrupted");
        }
        if (pmemsave == null) {
            pmemsave = new PmemsaveMemory(client, workDir(), settings.commandTimeout(), settings.stallTimeout(),
                    settings.minRate());
        }
        return pmemsave;
    }

    /** A file to close with the session. */
    synchronized void closeLater(Closeable c) {
        files.add(c);
    }

    /** Closes after opening failed; a close failure is added to {@code primary}. */
    void closeAfterFailure(RuntimeException primary) {
        try {
            close();
        } catch (RuntimeException e) {
            primary.addSuppressed(e);
        }
    }

    /**
     * Ends any {@code pmemsave}, resumes the guest if we stopped it, removes the lock and the private directory.
     *
     * @throws GuestLeftPausedException when the guest was stopped by us and could not be resumed
     */
    @Override
    public void close() {
        String problem = release();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // the hook itself runs
        }
        if (problem != null) {
            throw new GuestLeftPausedException(problem);
        }
    }

    private void interrupted() {
        System.err.println("guestdump: " + onInterrupt());
    }

    /** The shutdown hook's work (Ctrl-C, SIGTERM): cleans up and returns what is true of the guest afterwards. */
    String onInterrupt() {
        boolean wasSent = stopSent;
        String problem = release();
        if (problem != null) {
            return "interrupted; " + problem;
        }
        if (!wasSent) {
            return "interrupted; guestdump had not stopped the guest";
        }
        return "interrupted; " + (lastStatus == null ? "the guest's state is unknown" : lastStatus);
    }

    private volatile String lastStatus;

    /** Does the cleanup once; returns the message for a guest left stopped, or null. */
    private synchronized String release() {
        if (closed) {
            return null;
        }
        closed = true;
        closing = true;
        if (pmemsave != null) {
            pmemsave.shutdown();
        }
        if (client.isLost() && (stopSent || locked || migrationCaps != null || migrationBandwidth != null)) {
            reconnect();
        }
        String migration = restoreMigrationState();
        if (migration != null) {
            LOG.warn("{}", migration);
        }
        String problem = null;
        if (stopSent) {
            // resume only what we stopped: a stop whose answer we never saw is checked with query-status first
            try {
                boolean resume = stoppedByUs;
                if (!resume) {
                    Object st = command("query-status");
                    resume = st instanceof Map<?, ?> m && "paused".equals(m.get("status"));
                }
                if (resume) {
                    command("cont");
                }
                Object st = command("query-status");
                boolean runs = st instanceof Map<?, ?> m && Boolean.TRUE.equals(m.get("running"));
                String now = st instanceof Map<?, ?> m ? String.valueOf(m.get("status")) : "unknown";
                if (runs) {
                    lastStatus = "the guest is running again (query-status: " + now + ")";
                    LOG.info("resumed the guest");
                } else {
                    problem = notResumed(client.socket(), "after cont, query-status says " + now);
                }
            } catch (IOException | RuntimeException e) {
                problem = notResumed(client.socket(), e.getMessage());
            }
        }
        if (locked) {
            try {
                command("object-del", Map.of("id", settings.lockObject()));
            } catch (IOException | RuntimeException e) {
                String unlock = "remove guestdump's lock with {\"execute\":\"object-del\",\"arguments\":{\"id\":\""
                        + settings.lockObject() + "\"}}";
                problem = problem == null ? "could not remove the lock object: " + e.getMessage() + "; " + unlock
                        : problem + ", and " + unlock;
            }
        }
        client.close();
        for (Closeable c : files) {
            try {
                c.close();
            } catch (IOException ignored) {
                // read-only files
            }
        }
        if (workDir != null && !deleteTree(workDir)) {
            LOG.warn("could not remove {}", workDir);
        }
        return problem;
    }

    /**
     * After a lost or broken connection (QEMU closed it, or it broke the protocol and guestdump closed it), one new
     * connection to the same socket for the cleanup: QEMU accepts the next client once the last one is gone.
     */
    private void reconnect() {
        QmpClient old = client;
        old.close();
        try {
            client = QmpClient.connect(old.socket(), settings.greetingTimeout(), settings.commandTimeout(),
                    settings.maxMessage());
            LOG.info("reconnected to {} to resume the guest and remove the lock", old.socket());
        } catch (IOException | RuntimeException e) {
            LOG.debug("cannot reconnect to {}: {}", old.socket(), e.getMessage());
        }
    }

    private static String notResumed(Path socket, String why) {
        return "the guest behind " + socket + " was stopped by guestdump for the dump and is PAUSED: it could "
                + "not be resumed (" + why + "). Resume it by hand, e.g. printf '%s\\n' "
                + "'{\"execute\":\"qmp_capabilities\"}' '{\"execute\":\"cont\"}' | socat - UNIX-CONNECT:"
                + socket + "  (or 'cont' in the HMP monitor)";
    }

    private static boolean deleteTree(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
            return true;
        } catch (IOException e) {
            LOG.debug("could not remove {}: {}", dir, e.getMessage());
            return false;
        }
    }
}
