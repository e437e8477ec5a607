package io.guestdump.core.source.qmp;

import io.guestdump.arch.api.UnsupportedGuestException;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One dump's hold on a live guest: the QMP connection, the lock object, whether we stopped the guest, the private
 * directory and the pipe reader. {@link #close()} undoes it all, at the end of a dump, after a failure, or from a
 * shutdown hook (Ctrl-C): it ends a running {@code pmemsave}, resumes the guest if we stopped it, and removes the
 * lock. The one case it cannot help is a lost connection; then it says how to resume the guest by hand.
 */
final class QmpSession implements Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(QmpSession.class);

    private final QmpClient client;
    private final QmpSettings settings;
    private final List<Closeable> files = new ArrayList<>();
    private final Thread hook;
    private Path workDir;
    private PmemsaveMemory pmemsave;
    private volatile boolean locked;
    private volatile boolean stoppedByUs;
    private boolean closed;

    QmpSession(QmpClient client, QmpSettings settings) {
        this.client = client;
        this.settings = settings;
        this.hook = new Thread(this::interrupted, "guestdump-qmp-resume");
        Runtime.getRuntime().addShutdownHook(hook);
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

    /** Marks the guest as being dumped; refuses when another guestdump holds the mark. */
    void lock() throws IOException {
        try {
            command("object-add", Map.of("qom-type", "secret", "id", settings.lockObject(), "data",
                    "guestdump pid " + ProcessHandle.current().pid()));
            locked = true;
        } catch (QmpException e) {
            if (e.getMessage().contains("duplicate") || e.getMessage().contains("already")) {
                throw new UnsupportedGuestException("the guest behind " + client.socket() + " is being dumped by "
                        + "another guestdump (QOM object '" + settings.lockObject() + "' exists); wait for that "
                        + "dump to finish. If no guestdump is running (one was killed), remove the mark with "
                        + "{\"execute\":\"object-del\",\"arguments\":{\"id\":\"" + settings.lockObject() + "\"}}");
            }
            throw e;
        }
    }

    /** Stops the guest if it runs, and remembers to resume it. */
    void stopIfRunning() throws IOException {
        Object status = command("query-status");
        if (status instanceof Map<?, ?> m && Boolean.TRUE.equals(m.get("running"))) {
            command("stop");
            stoppedByUs = true;
            LOG.info("stopped the running guest for the dump; it is resumed afterwards");
        }
    }

    /** Whether this session stopped the guest. */
    boolean stoppedByUs() {
        return stoppedByUs;
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
        if (pmemsave == null) {
            pmemsave = new PmemsaveMemory(client, workDir(), settings.commandTimeout());
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
            LOG.error(e.getMessage());
        }
    }

    /**
     * Ends any {@code pmemsave}, resumes the guest if we stopped it, removes the lock and the private directory.
     *
     * @throws QmpException.ConnectionLost when the guest was stopped by us and cannot be resumed
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
            LOG.error(problem);
            throw new QmpException.ConnectionLost(problem);
        }
    }

    private void interrupted() {
        String problem = release();
        if (problem != null) {
            System.err.println("guestdump: " + problem);
        } else if (stoppedByUs) {
            System.err.println("guestdump: interrupted; the guest is running again");
        }
    }

    /** Does the cleanup once; returns the message for a guest left stopped, or null. */
    private synchronized String release() {
        if (closed) {
            return null;
        }
        closed = true;
        if (pmemsave != null) {
            pmemsave.shutdown();
        }
        String problem = null;
        if (stoppedByUs) {
            try {
                command("cont");
                LOG.info("resumed the guest");
            } catch (IOException | RuntimeException e) {
                problem = "the guest behind " + client.socket() + " was stopped by guestdump for the dump and "
                        + "could not be resumed: " + e.getMessage() + ". Resume it by hand, e.g. printf '%s\\n' "
                        + "'{\"execute\":\"qmp_capabilities\"}' '{\"execute\":\"cont\"}' | socat - UNIX-CONNECT:"
                        + client.socket() + "  (or 'cont' in the HMP monitor)";
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
        if (workDir != null) {
            try (Stream<Path> s = Files.walk(workDir)) {
                for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            } catch (IOException e) {
                LOG.warn("could not remove {}: {}", workDir, e.getMessage());
            }
        }
        return problem;
    }
}
