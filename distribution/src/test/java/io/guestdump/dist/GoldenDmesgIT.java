package io.guestdump.dist;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.guestdump.testkit.GoldenFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * makedumpfile --dump-dmesg prints the kernel log of the golden x86_64 guest from guestdump's kdump and ELF dumps,
 * where it fails on QEMU's own file. The guest is QEMU's full dump read through the {@code elf:} source, and the
 * same bytes described as a snapshot ({@code bench/elf-to-snapshot.py}, which bench/kdump.sh uses: one block per
 * PT_LOAD at its file offset, VMCOREINFO from the note, registers from {@code info-registers-a.txt}).
 */
class GoldenDmesgIT {
    @TempDir
    Path work;

    private Path redump(String source, String format, String name) throws Exception {
        Path golden = GoldenFiles.unpackedFull("x86_64");
        String spec;
        if (source.equals("elf")) {
            spec = "elf:" + golden;
        } else {
            Path script = Path.of("../bench/elf-to-snapshot.py").toAbsolutePath().normalize();
            Dist.Run s = Dist.run(work, Map.of(), List.of("python3", script.toString(), golden.toString(),
                    GoldenFiles.require("x86_64", "info-registers-a.txt").toString(), "golden")).expect(0);
            spec = "snapshot:" + s.out().trim();
        }
        Dist.guestdump(work, "dump", spec, "--format", format, "-o", name).expect(0);
        return work.resolve(name);
    }

    private Dist.Run dmesg(Path vmcore, Path log) throws Exception {
        return Dist.run(work, Map.of(), List.of("makedumpfile", "--dump-dmesg", vmcore.toString(), log.toString()));
    }

    @ParameterizedTest
    @CsvSource({"elf, elf", "elf, kdump-zlib", "elf, kdump-lzo", "snapshot, elf", "snapshot, kdump-zlib",
            "snapshot, kdump-lzo"})
    void makedumpfilePrintsTheKernelLog(String source, String format) throws Exception {
        Tools.require("makedumpfile");
        Path vmcore = redump(source, format, "golden." + format);
        Path log = work.resolve(format + ".dmesg");
        Dist.Run r = dmesg(vmcore, log).expect(0);
        String text = Files.readString(log);
        assertTrue(text.contains("Linux version"), r.out() + r.err() + text.substring(0, Math.min(400,
                text.length())));
        assertTrue(text.lines().count() > 100, "a whole kernel log, not a fragment: " + text.lines().count());
        if (format.startsWith("kdump")) {
            Tools.require("crash");
            Dist.Run c = Dist.run(work, Map.of(), List.of("crash", "--osrelease", vmcore.toString())).expect(0);
            assertTrue(c.out().strip().lines().allMatch("6.1.0-56-cloud-amd64"::equals), c.out() + c.err());
        }
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
