package io.guestdump.cli;

import io.guestdump.core.paging.PagingPlanner;
import io.guestdump.core.vmcore.ProgressListener;
import java.io.File;
import java.io.PrintStream;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * A one-line progress bar on standard error for every long phase of a dump (the VMCOREINFO search, the page-table
 * walk of {@code --paging}, the {@code struct page} scan and the zero-page search of {@code --dump-level}, the writing):
 * the phase, a bar, the percentage, the bytes, the rate of the last two seconds of this phase (so the writing
 * rate is not diluted by the phases before it) and the time left. Shown once a phase has run for a moment,
 * redrawn at most ten times a second, never wider than the terminal.
 */
final class ProgressBar implements ProgressListener {
    private static final long SHOW_AFTER_NANOS = 300_000_000L;
    private static final long REDRAW_NANOS = 100_000_000L;
    private static final long RATE_WINDOW_NANOS = 2_000_000_000L;
    private static final int MAX_BAR = 30;
    private static final int MIN_BAR = 10;

    private final PrintStream err;
    private final long minBytes;
    private final int columns;
    private final LongSupplier clock;
    private final ArrayDeque<long[]> samples = new ArrayDeque<>();
    private String phase = "writing";
    private long phaseStart;
    private long lastDraw;
    private int lastLength;
    private boolean lineOpen;

    ProgressBar(PrintStream err, long minBytes) {
        this(err, minBytes, terminalColumns(), System::nanoTime);
    }

    ProgressBar(PrintStream err, long minBytes, int columns, LongSupplier clock) {
        this.err = err;
        this.minBytes = minBytes;
        this.columns = columns;
        this.clock = clock;
        this.phaseStart = clock.getAsLong();
    }

    @Override
    public void phase(String name) {
        finish();
        phase = name;
        phaseStart = clock.getAsLong();
        samples.clear();
        lastDraw = 0;
    }

    @Override
    public void progress(long done, long total) {
        if (total < minBytes) {
            return;
        }
        long now = clock.getAsLong();
        boolean finished = done >= total;
        samples.addLast(new long[] {now, done});
        while (samples.size() > 2 && now - samples.peekFirst()[0] > RATE_WINDOW_NANOS) {
            samples.removeFirst();
        }
        if (!lineOpen && now - phaseStart < SHOW_AFTER_NANOS) {
            return;
        }
        if (!finished && lineOpen && now - lastDraw < REDRAW_NANOS) {
            return;
        }
        lastDraw = now;
        draw(line(done, total, now));
        if (finished) {
            finish();
        }
    }

    /** The text of the line, at most {@code columns - 1} characters. */
    String line(long done, long total, long now) {
        long[] first = samples.isEmpty() ? new long[] {phaseStart, 0} : samples.peekFirst();
        double seconds = (now - first[0]) / 1e9;
        double rate = seconds > 0 ? (done - first[1]) / seconds : 0;
        int percent = total == 0 ? 100 : (int) (100.0 * done / total);
        String eta = rate > 0 ? duration((long) ((total - done) / rate)) : "--:--";
        // the walk counts virtual address space, not bytes anything reads or writes: its share and time left only
        String text = phase.equals(PagingPlanner.PHASE_WALK) ? String.format("%s %3d%%  ETA %s", phase, percent, eta)
                : String.format("%s %3d%% %s / %s  %s/s  ETA %s", phase, percent, Sizes.human(done),
                        Sizes.human(total), Sizes.human((long) rate), eta);
        int room = columns - 1 - text.length() - 3;
        if (room >= MIN_BAR) {
            int width = Math.min(MAX_BAR, room);
            int filled = total == 0 ? width : (int) (width * Math.min(1.0, (double) done / total));
            text = "[" + "#".repeat(filled) + " ".repeat(width - filled) + "] " + text;
        }
        return text.length() > columns - 1 ? text.substring(0, Math.max(0, columns - 1)) : text;
    }

    private void draw(String text) {
        err.print("\r" + text + " ".repeat(Math.max(0, lastLength - text.length())));
        err.flush();
        lastLength = text.length();
        lineOpen = true;
    }

    /** Ends the line if a bar was drawn (the phase ended, or the dump stopped early). */
    void finish() {
        if (lineOpen) {
            err.println();
            err.flush();
        }
        lineOpen = false;
        lastLength = 0;
    }

    private static String duration(long seconds) {
        return seconds >= 3600 ? String.format("%d:%02d:%02d", seconds / 3600, seconds / 60 % 60, seconds % 60)
                : String.format("%02d:%02d", seconds / 60, seconds % 60);
    }

    /** {@code $COLUMNS}, else what {@code stty size} says of the controlling terminal, else 80. */
    static int terminalColumns() {
        try {
            String env = System.getenv("COLUMNS");
            if (env != null && env.matches("[0-9]{1,4}") && Integer.parseInt(env) >= 20) {
                return Integer.parseInt(env);
            }
            File tty = new File("/dev/tty");
            if (tty.exists()) {
                Process p = new ProcessBuilder("stty", "size").redirectInput(tty)
                        .redirectError(ProcessBuilder.Redirect.DISCARD).start();
                String out = new String(p.getInputStream().readAllBytes()).trim();
                if (p.waitFor(1, TimeUnit.SECONDS) && out.matches("[0-9]+ [0-9]+")) {
                    int cols = Integer.parseInt(out.split(" ")[1]);
                    if (cols >= 20) {
                        return cols;
                    }
                }
            }
        } catch (Exception e) {
            // no terminal to ask: the default width
        }
        return 80;
    }
}
