package io.guestdump.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --dump-level} on a live Debian guest with every page class (bench/qemu-interop/prepare-kernel.sh's
 * /init writes page cache, reads a RAM disk through its block device's page cache (pages with buffer heads:
 * cache with private data) and starts three shells holding user memory before GUESTDUMP-READY). The guest is
 * booted as QemuInteropIT boots it, paused, and dumped by QEMU ({@code dump-guest-memory}); guestdump's level-0
 * re-dump of that file is the input of both tools. At levels 1, 2, 4, 8, 16 and 31 the pages guestdump keeps
 * equal those {@code makedumpfile -d N} keeps (same bitmaps and zero pages); the dry run shows cache, cache with
 * private data, user, free and zero pages; and {@code qmp:} with {@code --dump-level 31} straight from the paused guest keeps the same pages as
 * the re-dump of QEMU's file.
 */
class DumpLevelInteropIT {
    @TempDir
    Path dir;

    @Test
    void keepsTheSamePagesAsMakedumpfileOnALiveGuestWithEveryClass() throws Exception {
        QemuInteropIT.Guest g = QemuInteropIT.GUESTS.get("amd64");
        boolean required = "1".equals(System.getenv("GUESTDUMP_REQUIRE_QEMU"));
        Path cache = Path.of(System.getenv().getOrDefault("GUESTDUMP_CACHE",
                System.getProperty("user.home") + "/.cache/guestdump"), "qemu", g.arch());
        boolean ready = Files.isRegularFile(cache.resolve("vmlinuz"))
                && "3".equals(read(cache.resolve("initrd-version")).trim());
        String why = "skipped: needs " + cache + " prepared by bench/qemu-interop/prepare-kernel.sh " + g.arch()
                + " with the page-class workload (initrd-version 3)";
        if (required) {
            assertTrue(ready, why.replace("skipped: ", "GUESTDUMP_REQUIRE_QEMU=1 but the test "));
        }
        assumeTrue(ready, why);
        Tools.require("makedumpfile");

        Path sock = dir.resolve("qmp.sock");
        Path testSock = dir.resolve("test-qmp.sock");
        Path serial = dir.resolve("serial.log");
        List<String> cmd = new ArrayList<>(List.of(g.qemu()));
        cmd.addAll(g.machine());
        cmd.addAll(List.of("-accel", "tcg", "-m", "512M", "-smp", "2", "-display", "none", "-monitor", "none",
                "-nic", "none", "-serial", "file:" + serial, "-qmp", "unix:" + sock + ",server=on,wait=off",
                "-qmp", "unix:" + testSock + ",server=on,wait=off",
                "-kernel", cache.resolve("vmlinuz").toString(), "-initrd", cache.resolve("initrd.cpio.gz").toString(),
                "-append", "console=" + g.console() + " panic=0", "-no-reboot", "-device", "vmcoreinfo"));
        Process qemu = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("qemu.out")
                .toFile()).start();
        try {
            long end = System.nanoTime() + 240_000_000_000L;
            while (!read(serial).contains("GUESTDUMP-READY")) {
                assertTrue(qemu.isAlive() && System.nanoTime() < end, "no GUESTDUMP-READY: " + read(serial)
                        + read(dir.resolve("qemu.out")));
                Thread.sleep(50);
            }
            Path qemuElf = dir.resolve("qemu.elf");
            try (QemuInteropIT.Qmp q = new QemuInteropIT.Qmp(testSock)) {
                q.execute("stop");
                q.execute("dump-guest-memory", "{\"paging\":false,\"protocol\":\"file:" + qemuElf + "\"}");
                Path live = dir.resolve("live31.kdump");
                Dist.guestdump(dir, "dump", "qmp:" + sock, "--dump-level", "31", "--format", "kdump-lzo", "-o",
                        live.toString()).expect(0);
                assertEquals("paused", q.status());
                q.execute("quit");
            }
            qemu.waitFor(60, TimeUnit.SECONDS);
            Path base = dir.resolve("base.elf");
            Dist.guestdump(dir, "dump", "elf:" + qemuElf, "-o", base.toString()).expect(0);
            Files.delete(qemuElf);

            String report = Dist.guestdump(dir, "dump", "elf:" + base, "--dump-level", "31", "--dry-run", "-o",
                    dir.resolve("none").toString()).expect(0).out();
            for (String t : List.of("ZERO", "NON_PRI_CACHE", "PRI_CACHE", "USER", "FREE", "KERN_DATA")) {
                Matcher m = Pattern.compile("(?m)^" + t + " +(\\d+) ").matcher(report);
                assertTrue(m.find() && Long.parseLong(m.group(1)) > 0, t + " is not empty:\n" + report);
            }
            Matcher user = Pattern.compile("(?m)^USER +(\\d+) ").matcher(report);
            assertTrue(user.find() && Long.parseLong(user.group(1)) >= 3 * 1024, "three shells' 4 MiB strings:\n"
                    + report);
            Matcher cacheRow = Pattern.compile("(?m)^NON_PRI_CACHE +(\\d+) ").matcher(report);
            assertTrue(cacheRow.find() && Long.parseLong(cacheRow.group(1)) >= 2048, "8 MiB of file data:\n" + report);

            Path compare = GoldenDumpLevelIT.compare(dir);
            for (int level : new int[] {1, 2, 4, 8, 16, 31}) {
                Path ours = dir.resolve("gd" + level + ".kdump");
                Path theirs = dir.resolve("mdf" + level + ".kdump");
                Dist.guestdump(dir, "dump", "elf:" + base, "--dump-level", Integer.toString(level), "--format",
                        "kdump-zlib", "-o", ours.toString()).expect(0);
                Dist.run(dir, Map.of(), List.of("makedumpfile", "-c", "-d", Integer.toString(level),
                        base.toString(), theirs.toString())).expect(0);
                String r = Dist.run(dir, Map.of(), List.of("/usr/bin/python3", compare.toString(), ours.toString(),
                        theirs.toString())).expect(0).out();
                assertTrue(r.startsWith("same level=" + level + " "), "-d " + level + ": " + r);
                Files.delete(theirs);
                if (level != 31) {
                    Files.delete(ours);
                }
            }
            String r = Dist.run(dir, Map.of(), List.of("/usr/bin/python3", compare.toString(),
                    dir.resolve("live31.kdump").toString(), dir.resolve("gd31.kdump").toString())).expect(0).out();
            assertTrue(r.startsWith("same level=31 "), "qmp: keeps what the re-dump of QEMU's file keeps: " + r);
        } finally {
            qemu.destroy();
            if (!qemu.waitFor(30, TimeUnit.SECONDS)) {
                qemu.destroyForcibly();
            }
        }
    }

    private static String read(Path p) {
        try {
            return Files.exists(p) ? Files.readString(p, java.nio.charset.StandardCharsets.ISO_8859_1) : "";
        } catch (java.io.IOException e) {
            return "";
        }
    }
}
