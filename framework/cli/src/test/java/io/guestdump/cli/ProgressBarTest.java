package io.guestdump.cli;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Issue 13: the bar covers each phase, shows an ETA, fits the terminal and shows the rate of the phase itself. */
class ProgressBarTest {
    private static final long MiB = 1 << 20;
    private static final long SECOND = 1_000_000_000L;

    private long now;

    private String[] lines(ByteArrayOutputStream buf) {
        return buf.toString(StandardCharsets.UTF_8).split("[\r\n]+");
    }

    @Test
    void theSearchPhaseIsShownAndTheWritingRateIsItsOwn() {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        ProgressBar bar = new ProgressBar(new PrintStream(buf, true, StandardCharsets.UTF_8), 0, 100, () -> now);
        bar.phase("searching for VMCOREINFO");
        // a 10 s search over 6 GiB
        for (int s = 1; s <= 10; s++) {
            now = s * SECOND;
            bar.progress(s * 600 * MiB, 6000 * MiB);
        }
        bar.phase("writing");
        long start = now;
        // then 100 MiB/s of writing
        for (int s = 1; s <= 5; s++) {
            now = start + s * SECOND;
            bar.progress(s * 100 * MiB, 1000 * MiB);
        }
        String out = buf.toString(StandardCharsets.UTF_8);
        assertTrue(out.contains("searching for VMCOREINFO 100%"), out);
        assertTrue(out.contains("writing  50% 500.0 MiB / 1000.0 MiB  100.0 MiB/s  ETA 00:05"), out);
    }

    @Test
    void everyLineFitsTheTerminal() {
        for (int columns : new int[] {20, 40, 60, 80, 200}) {
            ByteArrayOutputStream buf = new ByteArrayOutputStream();
            ProgressBar bar = new ProgressBar(new PrintStream(buf, true, StandardCharsets.UTF_8), 0, columns,
                    () -> now);
            now = 0;
            bar.phase("writing");
            for (int s = 1; s <= 30; s++) {
                now = s * SECOND;
                bar.progress(s * 123_456_789L, 30 * 123_456_789L);
            }
            for (String l : lines(buf)) {
                assertTrue(l.length() <= columns - 1, columns + " columns: '" + l + "' (" + l.length() + ")");
            }
            if (columns >= 80) {
                assertTrue(buf.toString(StandardCharsets.UTF_8).contains("[#"), buf.toString());
            }
        }
    }

    @Test
    void smallDumpsAndShortPhasesDrawNothing() {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        ProgressBar bar = new ProgressBar(new PrintStream(buf, true, StandardCharsets.UTF_8), 64 * MiB, 80,
                () -> now);
        now = 5 * SECOND;
        bar.progress(MiB, 4 * MiB);
        bar.phase("writing");
        now += 100_000_000L;
        bar.progress(100 * MiB, 100 * MiB);
        assertFalse(buf.size() > 0, buf.toString());
    }

    @Test
    void theDumpLevelScansAndThePageTableWalkAreShownWithTheirEta() {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        ProgressBar bar = new ProgressBar(new PrintStream(buf, true, StandardCharsets.UTF_8), 0, 100, () -> now);
        now = 0;
        bar.phase(io.guestdump.core.paging.PagingPlanner.PHASE_WALK);
        long span = io.guestdump.core.paging.PagingPlanner.WALK_SPAN;
        for (int s = 1; s <= 4; s++) {
            now = s * SECOND;
            bar.progress(s * span / 8, span);
        }
        bar.phase(io.guestdump.core.kernel.PageClassifier.PHASE_CLASSES);
        long start = now;
        for (int s = 1; s <= 2; s++) {
            now = start + s * SECOND;
            bar.progress(s * 1024 * MiB, 8192 * MiB);
        }
        bar.phase(io.guestdump.core.kernel.PageClassifier.PHASE_ZEROS);
        start = now;
        for (int s = 1; s <= 3; s++) {
            now = start + s * SECOND;
            bar.progress(s * 100 * MiB, 1000 * MiB);
        }
        String out = buf.toString(StandardCharsets.UTF_8);
        assertTrue(out.contains("walking page tables  50%  ETA 00:04"), out);
        assertFalse(out.contains("TiB"), "the walk's units are not shown as bytes: " + out);
        assertTrue(out.contains("classing pages  25% 2.0 GiB / 8.0 GiB  1.0 GiB/s  ETA 00:06"), out);
        assertTrue(out.contains("finding zero pages  30% 300.0 MiB / 1000.0 MiB  100.0 MiB/s  ETA 00:07"), out);
        for (String l : lines(buf)) {
            assertTrue(l.length() <= 99, l);
        }
    }
}
