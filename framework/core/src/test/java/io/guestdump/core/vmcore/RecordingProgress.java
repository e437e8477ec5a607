package io.guestdump.core.vmcore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

/** A progress listener for tests: what it was told, as "phase" and "done/total" entries in order. */
public final class RecordingProgress implements ProgressListener {
    public final List<String> events = new ArrayList<>();

    @Override
    public void progress(long done, long total) {
        events.add(done + "/" + total);
    }

    @Override
    public void phase(String name) {
        events.add(name);
    }

    /** Checks that {@code phase} came first, then only its counts, never backwards, rising to {@code total}. */
    public void assertOnePhaseUpTo(String phase, long total) {
        assertEquals(phase, events.get(0), events.toString());
        long last = -1;
        for (String e : events.subList(1, events.size())) {
            String[] dt = e.split("/");
            assertEquals(total, Long.parseLong(dt[1]), events.toString());
            assertTrue(Long.parseLong(dt[0]) >= last, "never backwards: " + events);
            last = Long.parseLong(dt[0]);
        }
        assertEquals(total, last, events.toString());
    }
}
