package io.guestdump.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 13: Ctrl-C (SIGINT) through the real launcher is exit 130 and leaves nothing behind, at a point of the dump
 * the test holds deterministically: the dump blocks writing into a FIFO the test never reads, or reading guest
 * memory that the (scripted) QEMU never delivers. The test waits until a thread of guestdump sleeps in the kernel's
 * pipe code ({@code /proc/PID/task/TID/wchan}), so the signal can never land before or after the dump.
 */
class InterruptIT {
    private static final int S_IFMT = 0170000;
    private static final int S_IFIFO = 0010000;

    @TempDir
    Path dir;

    @Test
    void ctrlCWhileWritingIntoAFifoIsExit130AndTheFifoStaysAFifo() throws Exception {
        Path fifo = dir.resolve("vmcore.fifo");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
        // opened read+write by the test first, so that guestdump's open for writing does not block; never read
        try (FileChannel held = FileChannel.open(fifo, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            Process p = start("dump", "sample:", "-o", fifo.toString());
            awaitBlockedIn(p, "pipe_(write|wait_writable)");
            Dist.Run r = interrupt(p);
            assertEquals(130, r.exit(), r.err());
        }
        int mode = (Integer) Files.getAttribute(fifo, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        assertEquals(S_IFIFO, mode & S_IFMT, "the FIFO is still a FIFO");
        assertEquals(List.of("out.txt", "vmcore.fifo"), names(), "nothing else was created");
    }

    @Test
    void ctrlCWhileReadingGuestMemoryIsExit130WithNoFileAndNoPartialLeft() throws Exception {
        Path socket = dir.resolve("qmp.sock");
        Path out = dir.resolve("vmcore");
        java.util.concurrent.atomic.AtomicBoolean held = new java.util.concurrent.atomic.AtomicBoolean();
        try (QmpFaultsIT.Peer qemu = new QmpFaultsIT.Peer(socket)) {
            qemu.script = c -> {
                if (!c.equals("pmemsave")) {
                    return null;
                }
                String msg = qemu.message;
                if (Long.parseLong(QmpFaultsIT.Peer.group(QmpFaultsIT.Peer.SIZE, msg)) < (1 << 20)) {
                    return null; // small reads (the page-table walk) are delivered; the 1 MiB of RAM is not
                }
                // the dump's copy of guest memory: as a QEMU whose pmemsave writes nothing, until guestdump gives
                // up the FIFO (closes and removes it), then the failed write's error, as QEMU answers it
                Path pipe = Path.of(QmpFaultsIT.Peer.group(QmpFaultsIT.Peer.FILE, msg));
                held.set(true);
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
                while (Files.exists(pipe) && System.nanoTime() < deadline) {
                    try {
                        Thread.sleep(20);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        break;
                    }
                }
                return "{\"error\": {\"class\": \"GenericError\", \"desc\": \"writing memory to '" + pipe
                        + "' failed\"}";
            };
            Process p = start("dump", "qmp:" + socket, "-o", out.toString(), "-D",
                    "guestdump.source.qmp.pmemsave-stall-timeout=10m");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (!held.get() && p.isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertTrue(held.get(), "guestdump never asked for the guest's memory: " + said());
            awaitBlockedIn(p, "pipe_(read|wait_readable)");
            assertTrue(names().stream().anyMatch(n -> n.endsWith(".partial")), "the dump is under way: " + names());
            Dist.Run r = interrupt(p);
            assertEquals(130, r.exit(), r.err());
            assertTrue(qemu.running, "the guest guestdump stopped is running again: " + qemu.log);
        }
        assertFalse(Files.exists(out, LinkOption.NOFOLLOW_LINKS), "no file at the target");
        assertTrue(names().stream().noneMatch(n -> n.endsWith(".partial")), "no .partial left: " + names());
    }

    /** The launcher, SIGINT restored to its default (a test JVM started from a background shell ignores it). */
    private Process start(String... args) throws IOException {
        List<String> cmd = new java.util.ArrayList<>(List.of("env", "--default-signal=INT",
                Dist.launcher().toString()));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("out.txt").toFile()).start();
    }

    /**
     * Waits until a thread of {@code p} sleeps in a kernel function {@code wchan} matches (a pipe's read or write:
     * {@code pipe_write}, or {@code pipe_wait_writable} for sendfile into a pipe).
     */
    private void awaitBlockedIn(Process p, String wchan) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (System.nanoTime() < deadline) {
            assertTrue(p.isAlive(), "guestdump ended before the point the test holds it at: " + said());
            try (Stream<Path> tasks = Files.list(Path.of("/proc", Long.toString(p.pid()), "task"))) {
                for (Path t : tasks.toList()) {
                    try {
                        if (java.util.regex.Pattern.compile(wchan).matcher(Files.readString(t.resolve("wchan")))
                                .find()) {
                            return;
                        }
                    } catch (IOException gone) {
                        // the thread ended meanwhile
                    }
                }
            }
            Thread.sleep(20);
        }
        p.destroyForcibly();
        throw new AssertionError("guestdump never blocked in " + wchan + ": " + said());
    }

    private Dist.Run interrupt(Process p) throws Exception {
        assertEquals(0, new ProcessBuilder("kill", "-INT", Long.toString(p.pid())).start().waitFor());
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("guestdump did not end after SIGINT: " + said());
        }
        return new Dist.Run(p.exitValue(), said(), said());
    }

    private String said() throws IOException {
        return Files.readString(dir.resolve("out.txt"));
    }

    private List<String> names() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(x -> x.getFileName().toString()).sorted().toList();
        }
    }
}
