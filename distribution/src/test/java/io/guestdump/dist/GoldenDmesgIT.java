package io.guestdump.dist;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.guestdump.testkit.GoldenFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * makedumpfile --dump-dmesg prints the kernel log of the golden x86_64 guest from guestdump's kdump and ELF dumps
 * of QEMU's full dump (read through the {@code elf:} source), where it fails on QEMU's own file.
 */
class GoldenDmesgIT {
    @TempDir
    Path work;

    private Path redump(String format, String name) throws Exception {
        Path golden = GoldenFiles.unpackedFull("x86_64");
        Dist.Run r = Dist.guestdump(work, "dump", "elf:" + golden, "--format", format, "-o", name);
        assumeTrue(!r.err().contains("unknown source kind 'elf:'"),
                "skipped: this build has no elf: source yet (branch elfsrc)");
        r.expect(0);
        return work.resolve(name);
    }

    private Dist.Run dmesg(Path vmcore, Path log) throws Exception {
        return Dist.run(work, Map.of(), List.of("makedumpfile", "--dump-dmesg", vmcore.toString(), log.toString()));
    }

    @ParameterizedTest
    @ValueSource(strings = {"elf", "kdump-zlib", "kdump-lzo"})
    void makedumpfilePrintsTheKernelLog(String format) throws Exception {
        Tools.require("makedumpfile");
        Path vmcore = redump(format, "golden." + format);
        Path log = work.resolve(format + ".dmesg");
        Dist.Run r = dmesg(vmcore, log).expect(0);
        String text = Files.readString(log);
        assertTrue(text.contains("Linux version"), r.out() + r.err() + text.substring(0, Math.min(400,
                text.length())));
        assertTrue(text.lines().count() > 100, "a whole kernel log, not a fragment: " + text.lines().count());
    }

    @Test
    void makedumpfileFailsOnQemusOwnDump() throws Exception {
        Tools.require("makedumpfile");
        Path golden = GoldenFiles.unpackedFull("x86_64");
        Dist.Run r = dmesg(golden, work.resolve("qemu.dmesg"));
        assertFalse(r.exit() == 0 && Files.exists(work.resolve("qemu.dmesg")), "QEMU 7.2's layout (section headers "
                + "before program headers) is expected to defeat makedumpfile 1.7.2: " + r.out() + r.err());
    }
}
