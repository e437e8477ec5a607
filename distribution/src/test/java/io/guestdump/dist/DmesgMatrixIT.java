package io.guestdump.dist;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.guestdump.testkit.GoldenFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * makedumpfile --dump-dmesg reads every x86_64 output: ELF and kdump, with and without {@code --paging}, at every
 * dump level, with the guest's VMCOREINFO given by the source (QEMU's note in the golden ELF) and found by the
 * memory scan (the same bytes as a snapshot without {@code vmcoreinfo-from}, as for a guest that never published
 * it). Each file must give the whole kernel log.
 */
class DmesgMatrixIT {
    @TempDir
    static Path work;

    /** {@code elf:} of QEMU's dump (VMCOREINFO from its note), and a snapshot of the same RAM without it. */
    static String fromSource;
    static String fromScan;

    @BeforeAll
    static void sources() throws Exception {
        Path golden = GoldenFiles.unpackedFull("x86_64");
        fromSource = "elf:" + golden;
        Path script = Path.of("../bench/elf-to-snapshot.py").toAbsolutePath().normalize();
        Dist.Run s = Dist.run(work, Map.of(), List.of("python3", script.toString(), golden.toString(),
                GoldenFiles.require("x86_64", "info-registers-a.txt").toString(), "scan")).expect(0);
        Path conf = work.resolve(s.out().trim());
        String text = Files.readAllLines(conf).stream().filter(l -> !l.contains("vmcoreinfo-from"))
                .collect(Collectors.joining("\n", "", "\n"));
        assertTrue(!text.contains("vmcoreinfo"), text);
        Files.writeString(conf, text);
        fromScan = "snapshot:" + conf;
    }

    static Stream<Arguments> outputs() {
        List<Arguments> all = new ArrayList<>();
        for (String vmcoreinfo : List.of("source", "scan")) {
            for (String format : List.of("elf", "kdump-lzo")) {
                for (boolean paging : List.of(false, true)) {
                    for (int level : List.of(0, 1, 2, 8, 16, 31)) {
                        all.add(Arguments.of(vmcoreinfo, format, paging, level));
                    }
                }
            }
        }
        return all.stream();
    }

    @ParameterizedTest(name = "VMCOREINFO from {0}, {1}, paging {2}, level {3}")
    @MethodSource("outputs")
    void makedumpfilePrintsTheWholeKernelLog(String vmcoreinfo, String format, boolean paging, int level)
            throws Exception {
        Tools.require("makedumpfile");
        String name = vmcoreinfo + "-" + format + (paging ? "-paging" : "") + "-d" + level;
        Path vmcore = work.resolve(name + ".vmcore");
        List<String> args = new ArrayList<>(List.of("dump", vmcoreinfo.equals("scan") ? fromScan : fromSource,
                "--format", format, "--dump-level", Integer.toString(level), "-o", vmcore.toString(), "--quiet"));
        if (paging) {
            args.add("--paging");
        }
        Dist.guestdump(work, args.toArray(String[]::new)).expect(0);
        Path log = work.resolve(name + ".dmesg");
        Dist.Run r = Dist.run(work, Map.of(), List.of("makedumpfile", "--dump-dmesg", vmcore.toString(),
                log.toString()));
        assertTrue(r.exit() == 0 && Files.exists(log), name + ": makedumpfile --dump-dmesg failed:\n" + r.out()
                + r.err());
        String text = Files.readString(log);
        assertTrue(text.contains("Linux version 6.1.0-56-cloud-amd64"), name + ": " + text.substring(0,
                Math.min(400, text.length())));
        assertTrue(text.lines().count() > 100, name + ": a whole kernel log, not a fragment: "
                + text.lines().count() + " lines");
        Files.delete(vmcore);
        Files.delete(log);
    }
}
