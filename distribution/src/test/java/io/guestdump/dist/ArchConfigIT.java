package io.guestdump.dist;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A setting in config/arch/x86_64.conf changes the output, and -D overrides it. */
class ArchConfigIT {
    @TempDir
    Path work;

    @Test
    void perArchConfigLeavesOutTheQemuNoteAndDashDBringsItBack() throws Exception {
        Path config = Files.createDirectories(work.resolve("config/arch"));
        Files.writeString(config.resolve("x86_64.conf"), "guestdump.arch.x86_64.qemu-cpu-state-note = false\n");
        String sample = "snapshot:" + Dist.home().resolve("config/guests/sample-x86_64.conf");
        Map<String, String> env = Map.of("JAVA_OPTS", "-Dguestdump.config-dir=" + work.resolve("config"));

        Dist.run(work, env, List.of(Dist.launcher().toString(), "dump", sample, "-o", "without.vmcore")).expect(0);
        Dist.Run off = Dist.guestdump(work, "info", "without.vmcore");
        assertFalse(off.out().contains("QEMU type 0x0"), off.out());
        assertTrue(off.out().contains("notes: 3"), off.out());

        Dist.run(work, env, List.of(Dist.launcher().toString(), "dump", sample, "-o", "with.vmcore",
                "-D", "guestdump.arch.x86_64.qemu-cpu-state-note=true")).expect(0);
        Dist.Run on = Dist.guestdump(work, "info", "with.vmcore");
        assertTrue(on.out().contains("QEMU type 0x0, 440 bytes"), on.out());
        assertTrue(on.out().contains("notes: 5"), on.out());
    }
}
