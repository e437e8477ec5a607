package io.guestdump.cli;

import io.guestdump.core.vmcore.ProgressListener;
import java.io.PrintStream;

/**
 * A one-line progress bar on standard error, shown only once a dump has run for a moment, redrawn at most ten
 * times a second.
 */
final class ProgressBar implements ProgressListener {
    private static final long SHOW_AFTER_NANOS = 300_000_000L;
    private static final long REDRAW_NANOS = 100_000_000L;

    private final PrintStream err;
    private final long minBytes;
    private final long start = System.nanoTime();
    private long lastDraw;
    private boolean shown;

    ProgressBar(PrintStream err, long minBytes) {
        this.err = err;
        this.minBytes = minBytes;
    }

    @Override
    public void progress(long done, long total) {
        long now = System.nanoTime();
        boolean finished = done >= total;
        if (total < minBytes) {
            return;
        }
        if (now - start < SHOW_AFTER_NANOS && !shown) {
            return;
        }
        if (!finished && now - lastDraw < REDRAW_NANOS) {
            return;
        }
        lastDraw = now;
        shown = true;
        int width = 30;
        int filled = total == 0 ? width : (int) (width * (double) done / total);
        double seconds = (now - start) / 1e9;
        double rate = seconds > 0 ? done / seconds : 0;
        err.printf("\r[%s%s] %3d%% %s / %s  %s/s ", "#".repeat(filled), " ".repeat(width - filled),
                total == 0 ? 100 : (int) (100.0 * done / total), Sizes.human(done), Sizes.human(total),
                Sizes.human((long) rate));
        if (finished) {
            err.println();
        }
        err.flush();
    }

    /** Ends the line if a bar was drawn and the dump stopped early. */
    void finish() {
        if (shown) {
            err.println();
        }
    }
}
