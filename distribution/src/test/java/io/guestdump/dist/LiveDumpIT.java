package io.guestdump.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Live dumps of RUNNING guests (QEMU 7.2, TCG) with the default {@code --live=auto}: the interop guests of
 * {@link QemuInteropIT}, booted with {@code GUESTDUMP_LIVE_MEMORY} of RAM (default 2G) and a second QMP socket from
 * which the test watches them.
 *
 * <ul>
 *   <li>a {@code --paging} ELF is written from QEMU's background snapshot: the summary says so and prints the
 *       downtime (QMP STOP to RESUME), which must be under {@code GUESTDUMP_LIVE_MAX_DOWNTIME_MS} (default 50) for
 *       the first live dump of each guest (later ones, on a loaded host, under 1 s: far from a stop of seconds);
 *       {@code query-status}, polled every 20 ms from the second connection during the dump, says
 *       {@code running} every time but polls that fall into the downtime (no more than it can hold), and does
 *       after it;</li>
 *   <li>gdb-multiarch disassembles {@code x/i $pc} of every vCPU of that file;</li>
 *   <li>amd64: a live {@code kdump-zlib} file, from which makedumpfile {@code --dump-dmesg} prints the guest's kernel
 *       log;</li>
 *   <li>amd64 and arm64, consistency: the guest runs {@code sweep} (src/test/resources/live/sweep.c, built static
 *       with the host's gcc for amd64 and Debian's aarch64-linux-gnu-gcc for arm64, and added to the initramfs), which
 *       keeps rewriting a sweep number into 16384 pages in index order. In the live dump the pages must show one
 *       instant: at most one boundary, sweep n+1 below it and n above. A naive copy of the same running guest
 *       ({@code pmemsave} in 16 MiB pieces while it runs; one pmemsave of all RAM holds QEMU's big lock and is nearly
 *       atomic under TCG) must fail the same check;</li>
 *   <li>the migration capabilities and parameters (xbzrle set on beforehand, which the snapshot must turn off and
 *       guestdump back on) are the same before and after every dump, and after a dump interrupted by SIGINT once QEMU
 *       streams the snapshot (exit 130, no output, the guest running and its vCPUs able to stop: see
 *       {@link #interrupted}).</li>
 * </ul>
 *
 * {@code GUESTDUMP_LIVE_ARCHES} lists the arches (default {@code amd64 arm64}; {@code riscv64} passes on request, but
 * is not a default: a vCPU caught inside OpenSBI at the snapshot has a physical pc that gdb cannot read through the
 * page tables, and a running guest cannot be settled first as {@link QemuInteropIT} settles a paused one); skipped when QEMU or a kernel is
 * absent, unless {@code GUESTDUMP_REQUIRE_QEMU=1}.
 */
class LiveDumpIT {
    @TempDir
    Path dir;

    static final long SWEEP_MAGIC = 0x3170656577736467L;
    /** The C compiler that builds sweep.c, static, for each guest arch that runs it (Debian's cross gcc for arm64). */
    static final Map<String, String> SWEEP_CC = Map.of("amd64", "gcc", "arm64", "aarch64-linux-gnu-gcc");
    /** Where guest RAM starts in the guest-physical space (-M pc: 0; -M virt: 1 GiB). */
    static final Map<String, Long> RAM_BASE = Map.of("amd64", 0L, "arm64", 0x4000_0000L);
    static final int SWEEP_PAGES = 16384;
    static final Pattern DOWNTIME = Pattern.compile("guest: live \\(background snapshot\\), guest downtime "
            + "([0-9.]+) ms");

    @Test
    void runningGuestsAreDumpedLiveAndKeepRunning() throws Exception {
        String arches = System.getenv().getOrDefault("GUESTDUMP_LIVE_ARCHES", "amd64 arm64");
        for (String arch : arches.trim().split("[ ,]+")) {
            run(QemuInteropIT.GUESTS.get(arch));
        }
    }

    private void run(QemuInteropIT.Guest g) throws Exception {
        boolean required = "1".equals(System.getenv("GUESTDUMP_REQUIRE_QEMU"));
        Path cache = Path.of(System.getenv().getOrDefault("GUESTDUMP_CACHE",
                System.getProperty("user.home") + "/.cache/guestdump"), "qemu", g.arch());
        boolean ready = Files.isRegularFile(cache.resolve("vmlinuz")) && onPath(g.qemu());
        String why = "skipped: needs " + g.qemu() + " on PATH and " + cache + "/{vmlinuz,initrd.cpio.gz} (run "
                + "bench/qemu-interop/prepare-kernel.sh " + g.arch() + ")";
        if (required) {
            assertTrue(ready, why.replace("skipped: ", "GUESTDUMP_REQUIRE_QEMU=1 but the test "));
        }
        assumeTrue(ready, why);
        boolean sweep = SWEEP_CC.containsKey(g.arch());
        if (sweep) {
            Tools.require(SWEEP_CC.get(g.arch()));
            Tools.require("cpio");
        }
        Tools.require("gdb-multiarch");

        Path run = Files.createDirectories(dir.resolve(g.arch()));
        Path sock = run.resolve("qmp.sock");
        Path watchSock = run.resolve("watch.sock");
        Path serial = run.resolve("serial.log");
        Path initrd = sweep ? sweepInitrd(run, SWEEP_CC.get(g.arch()), cache.resolve("initrd.cpio.gz"))
                : cache.resolve("initrd.cpio.gz");
        String memory = System.getenv().getOrDefault("GUESTDUMP_LIVE_MEMORY", "2G");
        List<String> cmd = new ArrayList<>(List.of(g.qemu()));
        cmd.addAll(g.machine());
        cmd.addAll(List.of("-accel", "tcg", "-m", memory, "-smp", "2", "-display", "none", "-monitor", "none",
                "-nic", "none", "-serial", "file:" + serial, "-qmp", "unix:" + sock + ",server=on,wait=off",
                "-qmp", "unix:" + watchSock + ",server=on,wait=off",
                "-kernel", cache.resolve("vmlinuz").toString(), "-initrd", initrd.toString(),
                "-append", "console=" + g.console() + " panic=0", "-no-reboot"));
        if (g.vmcoreinfo()) {
            cmd.addAll(List.of("-device", "vmcoreinfo"));
        }
        Process qemu = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(run.resolve("qemu.out")
                .toFile()).start();
        Map<String, String> report = new LinkedHashMap<>();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(240);
            String marker = sweep ? "SWEEP-READY" : "GUESTDUMP-READY";
            while (!(Files.exists(serial) && Files.readString(serial).contains(marker))) {
                assertTrue(qemu.isAlive() && System.nanoTime() < deadline, "the guest's " + marker + " in "
                        + serial + "; QEMU said: " + Files.readString(run.resolve("qemu.out")));
                Thread.sleep(500);
            }
            try (QemuInteropIT.Qmp watch = new QemuInteropIT.Qmp(watchSock)) {
                // a capability background-snapshot refuses beside it: guestdump turns it off and back on
                watch.execute("migrate-set-capabilities", "{\"capabilities\":[{\"capability\":\"xbzrle\","
                        + "\"state\":true}]}");
                String before = migrationSettings(watch);
                assertTrue(before.contains("{\"state\": true, \"capability\": \"xbzrle\"}"), before);

                Path elf = run.resolve("live-paging.elf");
                String summary = liveDump(watch, run, sock, elf, report, "--paging");
                assertEquals(before, migrationSettings(watch), "migration capabilities and parameters after the dump");
                gdbEveryVcpu(g, run, elf, report);
                if (sweep) {
                    report.put("consistency, live dump", sweepCheck(elf).describe());
                    assertTrue(sweepCheck(elf).consistent(), "the live dump is one instant: " + sweepCheck(elf));
                }
                Files.delete(elf);

                if (g.arch().equals("amd64")) {
                    Path kdump = run.resolve("live.kdump");
                    liveDump(watch, run, sock, kdump, report, "--format", "kdump-zlib");
                    assertEquals(before, migrationSettings(watch), "after the kdump dump");
                    Path dmesg = run.resolve("dmesg.txt");
                    Dist.Run r = Dist.run(run, Map.of(), List.of("makedumpfile", "--dump-dmesg", kdump.toString(),
                            dmesg.toString()));
                    assertEquals(0, r.exit(), "makedumpfile --dump-dmesg:\n" + r.out() + r.err());
                    String log = Files.readString(dmesg, StandardCharsets.ISO_8859_1);
                    assertTrue(log.contains("Linux version"), log.substring(0, Math.min(2000, log.length())));
                    report.put("makedumpfile --dump-dmesg (live kdump-zlib)", log.lines().count() + " log lines");
                    Files.delete(kdump);
                }

                if (sweep) {
                    // test the test: a naive copy of the running guest is no instant. One pmemsave of all RAM is
                    // nearly one: it holds QEMU's big lock throughout, and TCG vCPUs wait for it at their next
                    // interrupt (found here: one boundary). A reader that copies piece by piece while the guest runs
                    // (pmemsave in 16 MiB pieces, the guest running between them) is the naive copy.
                    long size = Long.parseLong(watch.execute("query-memory-size-summary")
                            .replaceAll(".*\"base-memory\": (\\d+).*", "$1"));
                    List<Path> pieces = new ArrayList<>();
                    long base = RAM_BASE.get(g.arch());
                    // -M pc maps RAM above 3 GiB elsewhere; the sweep's 64 MiB lies low in a 2 GiB guest either way
                    for (long at = base; at < base + Math.min(size, 0xc000_0000L); at += 16 << 20) {
                        Path piece = run.resolve("naive-" + (at >> 20) + ".raw");
                        watch.execute("pmemsave", "{\"val\":" + at + ",\"size\":" + (16 << 20)
                                + ",\"filename\":\"" + piece + "\"}");
                        pieces.add(piece);
                        Thread.sleep(10);
                    }
                    SweepCheck c = sweepCheck(pieces.toArray(Path[]::new));
                    report.put("consistency, pmemsave in 16 MiB pieces, running", c.describe());
                    assertTrue(!c.consistent(), "a naive copy must fail the check, else the check proves nothing: "
                            + c);
                    for (Path piece : pieces) {
                        Files.delete(piece);
                    }
                }

                interrupted(watch, run, sock, before, report);
            }
        } finally {
            qemu.destroy();
            if (!qemu.waitFor(10, TimeUnit.SECONDS)) {
                qemu.destroyForcibly();
            }
            StringBuilder text = new StringBuilder("live " + g.arch() + " (" + memory + ")\n");
            report.forEach((k, v) -> text.append(String.format("  %-48s %s%n", k, v)));
            System.out.print(text);
            Files.writeString(Path.of("target", "live-" + g.arch() + ".txt"), text);
        }
    }

    /** A live dump with {@code extra} options while the guest's status is polled; returns the summary. */
    private String liveDump(QemuInteropIT.Qmp watch, Path run, Path sock, Path out, Map<String, String> report,
            String... extra) throws Exception {
        List<String> args = new ArrayList<>(List.of("dump", "qmp:" + sock, "-o", out.toString()));
        args.addAll(List.of(extra));
        AtomicBoolean done = new AtomicBoolean();
        CompletableFuture<Dist.Run> dump = CompletableFuture.supplyAsync(() -> {
            try {
                return Dist.guestdump(run, args.toArray(String[]::new));
            } catch (IOException | InterruptedException e) {
                throw new IllegalStateException(e);
            } finally {
                done.set(true);
            }
        });
        Map<String, Integer> seen = new HashMap<>();
        long t0 = System.nanoTime();
        while (!done.get()) {
            seen.merge(watch.status(), 1, Integer::sum);
            Thread.sleep(20);
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        Dist.Run r = dump.get().expect(0);
        assertEquals("running", watch.status(), "the guest runs after the dump");
        String summary = r.out() + r.err();
        Matcher m = DOWNTIME.matcher(summary);
        assertTrue(m.find(), "a live dump with its downtime in the summary:\n" + summary);
        double downtime = Double.parseDouble(m.group(1));
        // the first live dump of a guest must keep under the limit (the 50 ms for 2 GiB). Later ones of the
        // same guest are slower by QEMU 7.2's doing: it un-protects each saved 4 KiB page, which splits the guest
        // RAM's transparent huge pages, so the next snapshot's write-protect of all RAM walks 512x more entries (117 ms
        // in that one ioctl here; docs/qmp-source.md "What the downtime depends on"). They must stay far below a
        // stop-dump-resume (seconds): 1 s. The host's load counts too: 2-28 ms first, 110 ms once at load average 17
        double limit = Double.parseDouble(System.getenv().getOrDefault("GUESTDUMP_LIVE_MAX_DOWNTIME_MS", "50"));
        if (report.keySet().stream().anyMatch(k -> k.startsWith("live dump "))) {
            limit = Math.max(limit, 1000);
        }
        String name = String.join(" ", extra);
        report.put("live dump " + name, String.format("%.1f s, downtime %.3f ms; query-status during: %s", secs,
                downtime, seen));
        // running at every poll, except polls that fell into the snapshot's start (the downtime, 20 ms apart)
        int paused = seen.getOrDefault("paused", 0);
        assertTrue(seen.keySet().stream().allMatch(k -> k.equals("running") || k.equals("paused"))
                && paused <= 1 + downtime / 20, "the guest was running at every poll but those within the "
                + downtime + " ms downtime: " + seen);
        assertTrue(downtime < limit, "downtime " + downtime + " ms, limit " + limit + " ms:\n" + summary);
        return summary;
    }

    /** gdb-multiarch {@code x/i $pc} for every vCPU of a {@code --paging} file. */
    private void gdbEveryVcpu(QemuInteropIT.Guest g, Path run, Path elf, Map<String, String> report)
            throws Exception {
        List<String> gdb = new ArrayList<>(List.of("gdb-multiarch", "-nx", "-batch", "-ex", "set architecture "
                + QemuInteropIT.GDB_ARCH.get(g.arch()), "-ex", "core-file " + elf));
        for (int cpu = 1; cpu <= 2; cpu++) {
            gdb.addAll(List.of("-ex", "thread " + cpu, "-ex", "x/i $pc"));
        }
        Dist.Run r = Dist.run(run, Map.of(), gdb);
        assertEquals(0, r.exit(), r.out() + r.err());
        List<String> insns = r.out().lines().filter(l -> l.startsWith("=> 0x")).toList();
        assertEquals(2, insns.size(), "x/i $pc of both vCPUs:\n" + r.out() + r.err());
        for (String i : insns) {
            assertTrue(!i.contains("Cannot access memory"), r.out());
        }
        report.put("gdb x/i $pc, every vCPU", insns.toString());
    }

    /**
     * SIGINT during the snapshot, once QEMU streams it (query-migrate: active, RAM bytes transferred): exit 130, no
     * output, settings restored, the guest running, and its vCPUs still able to stop. QEMU before 8.1 leaves the
     * guest's RAM write-protected after a cancelled background snapshot: a vCPU then waits forever on its next write
     * to a page not yet saved, and the next {@code stop} waits for it with QEMU's big lock held (no more QMP). That
     * was the hang seen here; guestdump now lets such a QEMU finish the snapshot and discards it, so with QEMU 7.2
     * the snapshot ends "completed" and guestdump exits when QEMU is done (within the snapshot's own time).
     */
    private void interrupted(QemuInteropIT.Qmp watch, Path run, Path sock, String before, Map<String, String> report)
            throws Exception {
        Path out = run.resolve("interrupted.elf");
        Path said = run.resolve("interrupted.txt");
        Process p = new ProcessBuilder("env", "--default-signal=INT", Dist.launcher().toString(), "dump",
                "qmp:" + sock, "-o", out.toString()).directory(run.toFile()).redirectErrorStream(true)
                .redirectOutput(said.toFile()).start();
        // the known point: QEMU is streaming the snapshot (not a timer)
        Pattern transferred = Pattern.compile("\"transferred\": (\\d+)");
        while (true) {
            String m = watch.execute("query-migrate");
            Matcher t = transferred.matcher(m);
            if (m.contains("\"status\": \"active\"") && t.find() && Long.parseLong(t.group(1)) > 0) {
                break;
            }
            assertTrue(p.isAlive(), "guestdump ended before the snapshot streamed: " + Files.readString(said));
            Thread.sleep(20);
        }
        long t0 = System.nanoTime();
        new ProcessBuilder("kill", "-INT", Long.toString(p.pid())).start().waitFor();
        // bounded by the snapshot itself: QEMU 7.2 must be let finish it (a 2 GiB guest took 87-222 s on this loaded
        // 2-core machine, 10-20 s idle)
        assertTrue(p.waitFor(600, TimeUnit.SECONDS), "guestdump did not end after SIGINT: " + Files.readString(said)
                + "; query-migrate: " + watch.execute("query-migrate"));
        double secs = (System.nanoTime() - t0) / 1e9;
        assertEquals(130, p.exitValue(), Files.readString(said));
        String migrate = watch.execute("query-migrate");
        assertTrue(migrate.contains("\"status\": \"cancelled\"") || migrate.contains("\"status\": \"completed\""),
                migrate);
        assertEquals("running", watch.status());
        assertEquals(before, migrationSettings(watch), "migration settings after the interrupted dump");
        assertTrue(!Files.exists(out), "no output after SIGINT");
        // the vCPUs are not held in a write-protection fault: a stop (which waits for every vCPU) and a cont answer
        CompletableFuture<String> stopCont = CompletableFuture.supplyAsync(() -> {
            try {
                watch.execute("stop");
                watch.execute("cont");
                return watch.status();
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
        assertEquals("running", stopCont.get(60, TimeUnit.SECONDS), "stop and cont after the interrupted dump");
        report.put("SIGINT during the snapshot", String.format("exit 130 after %.1f s, snapshot %s, settings "
                + "restored, stop/cont answered, running", secs, migrate.contains("completed") ? "let finish "
                + "(QEMU < 8.1) and discarded" : "cancelled"));
    }

    /** Capabilities and parameters as QEMU lists them. */
    private static String migrationSettings(QemuInteropIT.Qmp q) throws IOException {
        return q.execute("query-migrate-capabilities") + "\n" + q.execute("query-migrate-parameters");
    }

    /** The interop initramfs plus the sweep program and an /init that starts it (a second, later archive). */
    private static Path sweepInitrd(Path run, String cc, Path base) throws Exception {
        Path root = Files.createDirectories(run.resolve("sweep-root"));
        Path src = run.resolve("sweep.c");
        try (InputStream in = LiveDumpIT.class.getResourceAsStream("/live/sweep.c")) {
            Files.copy(in, src);
        }
        Dist.run(run, Map.of(), List.of(cc, "-O2", "-static", "-o", root.resolve("sweep").toString(),
                src.toString())).expect(0);
        Files.writeString(root.resolve("init"), String.join("\n",
                "#!/bin/sh",
                "mount -t proc proc /proc",
                "mount -t sysfs sys /sys",
                "mount -t devtmpfs dev /dev", // busybox starts a background job with stdin from /dev/null
                "[ -f /qemu_fw_cfg.ko ] && insmod /qemu_fw_cfg.ko",
                "/sweep &",
                "echo GUESTDUMP-READY",
                "while true; do sleep 3600; done", ""));
        root.resolve("init").toFile().setExecutable(true);
        Path extra = run.resolve("sweep.cpio.gz");
        // gzip-compressed like the first: the kernel took an uncompressed archive after a compressed one for none
        Dist.run(root, Map.of(), List.of("sh", "-c", "find . | cpio -o -H newc --quiet | gzip -1 > " + extra))
                .expect(0);
        Path initrd = run.resolve("initrd-sweep.cpio");
        // the kernel unpacks concatenated archives in order: the later /init replaces the interop one
        try (FileChannel out = FileChannel.open(initrd, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            for (Path part : List.of(base, extra)) {
                try (FileChannel in = FileChannel.open(part, StandardOpenOption.READ)) {
                    long size = in.size();
                    for (long done = 0; done < size; ) {
                        done += in.transferTo(done, size - done, out);
                    }
                }
            }
        }
        return initrd;
    }

    /**
     * The sweep pages found in files (any 4-byte aligned place: an ELF's PT_LOADs or a raw copy): index to sweep.
     *
     * @param sweeps     sweep number per index, -1 where absent
     * @param boundaries indexes i where sweep[i] differs from sweep[i-1]
     * @param conflicts  indexes found twice with different sweeps
     */
    record SweepCheck(long[] sweeps, List<Integer> boundaries, int missing, int conflicts) {
        /** One instant: every page found once, at most one boundary, from n+1 down to n. */
        boolean consistent() {
            if (missing > 0 || conflicts > 0 || boundaries.size() > 1) {
                return false;
            }
            return boundaries.isEmpty() || sweeps[boundaries.get(0) - 1] == sweeps[boundaries.get(0)] + 1;
        }

        String describe() {
            List<String> at = new ArrayList<>();
            for (int b : boundaries.subList(0, Math.min(5, boundaries.size()))) {
                at.add(b + ":" + sweeps[b - 1] + "->" + sweeps[b]);
            }
            return (consistent() ? "one instant" : "NOT one instant") + " (" + boundaries.size() + " boundar"
                    + (boundaries.size() == 1 ? "y" : "ies") + " " + at + (boundaries.size() > 5 ? "…" : "")
                    + ", sweeps " + sweeps[0] + ".." + sweeps[SWEEP_PAGES - 1] + ", " + missing + " missing, "
                    + conflicts + " conflicting)";
        }

        @Override
        public String toString() {
            return describe();
        }
    }

    static SweepCheck sweepCheck(Path... files) throws IOException {
        long[] sweeps = new long[SWEEP_PAGES];
        java.util.Arrays.fill(sweeps, -1);
        int conflicts = 0;
        for (Path file : files) {
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
                ByteBuffer buf = ByteBuffer.allocateDirect(8 << 20).order(ByteOrder.LITTLE_ENDIAN);
                long size = ch.size();
                for (long pos = 0; pos < size; ) {
                    buf.clear();
                    ch.read(buf, pos);
                    buf.flip();
                    // 4-byte steps: an ELF's data starts after its notes, which are 4-byte aligned only
                    int n = buf.limit() & ~3;
                    for (int i = 0; i + 32 <= n; i += 4) {
                        if (buf.getLong(i) == SWEEP_MAGIC && buf.getLong(i + 8) == ~SWEEP_MAGIC) {
                            long index = buf.getLong(i + 16);
                            long sweep = buf.getLong(i + 24);
                            if (index >= 0 && index < SWEEP_PAGES) {
                                if (sweeps[(int) index] >= 0 && sweeps[(int) index] != sweep) {
                                    conflicts++;
                                }
                                sweeps[(int) index] = sweep;
                            }
                        }
                    }
                    if (n <= 32) {
                        break;
                    }
                    pos += n - 28; // the starts this round could not check (a header across the buffer's end)
                }
            }
        }
        int missing = 0;
        List<Integer> boundaries = new ArrayList<>();
        for (int i = 0; i < SWEEP_PAGES; i++) {
            if (sweeps[i] < 0) {
                missing++;
            }
            if (i > 0 && sweeps[i] != sweeps[i - 1]) {
                boundaries.add(i);
            }
        }
        return new SweepCheck(sweeps, boundaries, missing, conflicts);
    }

    private static boolean onPath(String tool) {
        for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (Files.isExecutable(Path.of(d, tool))) {
                return true;
            }
        }
        return false;
    }
}
