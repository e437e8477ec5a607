package io.guestdump.core.source.qmp;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** Named pipes, which Java cannot create itself: {@code mkfifo -m 600}. */
final class Fifos {
    private Fifos() {}

    /** Creates a FIFO at {@code path}, readable and writable by the owner only. */
    static void make(Path path) throws IOException {
        Process p = new ProcessBuilder("mkfifo", "-m", "600", path.toString()).redirectErrorStream(true).start();
        try {
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (p.waitFor() != 0) {
                throw new IOException("mkfifo " + path + " failed: " + out);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while creating the pipe " + path, e);
        }
    }
}
