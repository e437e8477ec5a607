package io.guestdump.core.source.qmp;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** Named pipes, which Java cannot create itself: {@code mkfifo -m 600}. */
final class Fifos {
    private Fifos() {}

    /** Creates a FIFO at {@code path}, readable and writable by the owner only. */
    static void make(Path path) throws IOException {
        makeAll(java.util.List.of(path));
    }

    /**
     * Creates a FIFO at each of {@code paths} with one {@code mkfifo} (a process start costs milliseconds, tens of
     * them on a loaded machine).
     */
    static void makeAll(java.util.List<Path> paths) throws IOException {
        java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of("mkfifo", "-m", "600"));
        paths.forEach(p -> cmd.add(p.toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        try {
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (p.waitFor() != 0) {
                throw new IOException("mkfifo " + paths.get(0) + (paths.size() > 1 ? " (and " + (paths.size() - 1)
                        + " more)" : "") + " failed: " + out);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while creating the pipe " + paths.get(0), e);
        }
    }
}
