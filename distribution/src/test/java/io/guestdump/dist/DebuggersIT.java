package io.guestdump.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kernel debuggers with the guest kernel's real symbols on every output guestdump writes, as a kernel engineer
 * would use them: the amd64 and arm64 interop guests (Debian kernels, {@code bench/qemu-interop/prepare-kernel.sh})
 * are booted once each, paused, and dumped by QEMU ({@code paging=false} and {@code paging=true}) and by guestdump
 * in every output: ELF, {@code --paging} ELF, each kdump codec, and {@code --dump-level 31} where the build has it.
 * The symbols are Debian's {@code linux-image-<version>-dbg} vmlinux of exactly that kernel
 * ({@code bench/qemu-interop/prepare-dbg.sh}).
 *
 * <ul>
 *   <li>drgn opens every output, reads {@code init_uts_ns.name.release}, lists the tasks with {@code for_each_task}
 *       and unwinds every sleeping task into the scheduler; its output equals the one for QEMU's
 *       {@code paging=true} dump (QEMU's plain dump does not open in drgn 0.0.22: no kernel virtual addresses).
 *       Every CPU's current task is unwound too; drgn 0.0.22 uses a CPU's NT_PRSTATUS only when its {@code pr_pid}
 *       is the task's pid, which QEMU's (cpu + 1) and so ours never are, so the idle-loop check applies from drgn
 *       0.0.25 on (which trusts the note by CPU).
 *   <li>crash runs {@code sys}, {@code ps}, {@code log}, {@code kmem -i} and {@code bt -a}: the same output as on
 *       QEMU's own plain dump, file name aside, and no error from the first four. arm64's crash is Debian's arm64
 *       build under qemu-user ({@code bench/qemu-interop/prepare-crash.sh arm64}).
 *   <li>makedumpfile {@code --dump-dmesg} reads every amd64 output, and the kernel log it prints is the guest's.
 * </ul>
 *
 * Then the amd64 guest booted without its initramfs: the kernel panics before loading qemu_fw_cfg, so QEMU has no
 * VMCOREINFO; guestdump re-dumps QEMU's file ({@code elf:}) and finds the kernel's note by the memory scan; the same
 * checks pass, crash's {@code bt -a} shows the panic path.
 *
 * <p>{@code GUESTDUMP_DEBUGGER_ARCHES} lists the arches (default {@code amd64 arm64}); skipped when a tool, QEMU, a
 * kernel or its symbols are missing, unless {@code GUESTDUMP_REQUIRE_TOOLS=1}. What each tool said per output goes
 * to {@code target/debuggers-ARCH.txt} (the table in docs/consumers.md is filled from it).
 */
class DebuggersIT {
    @TempDir
    Path dir;

    static final String DRGN = String.join("\n",
            "import sys, drgn",
            "from drgn.helpers.linux.pid import for_each_task",
            "from drgn.helpers.linux.cpumask import for_each_online_cpu",
            "from drgn.helpers.linux.percpu import per_cpu",
            "prog = drgn.Program()",
            "prog.set_core_dump(sys.argv[1])",
            "prog.load_debug_info([sys.argv[2]])",
            "print('version', drgn.__version__)",
            "print('release', prog['init_uts_ns'].name.release.string_().decode())",
            "tasks = list(for_each_task(prog))",
            "print('tasks', len(tasks))",
            "def names(trace):",
            "    return ' <- '.join(f.name if getattr(f, 'name', None) else hex(f.pc) for f in trace)",
            "running = set()",
            "for cpu in for_each_online_cpu(prog):",
            "    t = per_cpu(prog['runqueues'], cpu).curr",
            "    running.add(t.value_())",
            "    print('cpu', cpu, t.comm.string_().decode(), names(prog.stack_trace(t)))",
            "scheduled = asleep = 0",
            "for t in tasks:",
            "    if t.value_() in running:",
            "        continue",
            "    asleep += 1",
            "    trace = names(prog.stack_trace(t))",
            "    if 'schedule' in trace:",
            "        scheduled += 1",
            "    print('task', t.pid.value_(), t.comm.string_().decode(), trace)",
            "print('sleeping', asleep, 'in-scheduler', scheduled)");

    static final List<String> CRASH_COMMANDS = List.of("sys", "ps", "log", "kmem -i", "bt -a");

    /** One output: its name, how guestdump makes it, and whether it is one of QEMU's. */
    record Output(String name, List<String> args) {}

    @Test
    void drgnCrashAndMakedumpfileReadEveryOutputWithTheKernelsSymbols() throws Exception {
        String arches = System.getenv().getOrDefault("GUESTDUMP_DEBUGGER_ARCHES", "amd64 arm64");
        for (String arch : arches.trim().split("[ ,]+")) {
            Map<String, String> table = new LinkedHashMap<>();
            Guest g = ready(arch);
            if (g == null) {
                continue;
            }
            try {
                live(g, table);
                if (arch.equals("amd64")) {
                    panicked(g, table);
                }
            } finally {
                StringBuilder report = new StringBuilder("debuggers " + arch + " (" + g.release() + ")\n");
                table.forEach((k, v) -> report.append(String.format("  %-52s %s%n", k, v)));
                System.out.print(report);
                Files.writeString(Path.of("target", "debuggers-" + arch + ".txt"), report);
            }
        }
    }

    /** What a guest needs; null (and a skip message) when something is missing outside CI. */
    record Guest(QemuInteropIT.Guest qemu, Path kernel, Path vmlinux, String release, List<String> crash) {}

    private Guest ready(String arch) throws Exception {
        QemuInteropIT.Guest q = QemuInteropIT.GUESTS.get(arch);
        assertTrue(q != null, "unknown arch " + arch + " in GUESTDUMP_DEBUGGER_ARCHES");
        Path cache = Path.of(System.getenv().getOrDefault("GUESTDUMP_CACHE",
                System.getProperty("user.home") + "/.cache/guestdump"));
        Path kernel = cache.resolve("qemu").resolve(arch);
        Path kver = kernel.resolve("kernel-version");
        String release = Files.isRegularFile(kver) ? Files.readString(kver).trim() : "";
        Path vmlinux = cache.resolve("dbg").resolve(arch).resolve("vmlinux-" + release);
        List<String> crash = arch.equals("amd64") ? List.of("crash") : List.of("qemu-aarch64-static", "-L",
                cache.resolve("crash/arm64/root").toString(), cache.resolve("crash/arm64/root/usr/bin/crash")
                        .toString());
        List<String> missing = new ArrayList<>();
        if (!onPath(q.qemu())) {
            missing.add(q.qemu());
        }
        if (release.isEmpty() || !Files.isRegularFile(kernel.resolve("vmlinuz"))) {
            missing.add(kernel + "/{vmlinuz,kernel-version} (bench/qemu-interop/prepare-kernel.sh " + arch + ")");
        }
        if (!Files.isRegularFile(vmlinux)) {
            missing.add(vmlinux + " (bench/qemu-interop/prepare-dbg.sh " + arch + ")");
        }
        if (!onPath(crash.get(0)) || crash.size() > 1 && !Files.isExecutable(Path.of(crash.get(3)))) {
            missing.add(String.join(" ", crash) + (crash.size() > 1 ? " (bench/qemu-interop/prepare-crash.sh arm64)"
                    : ""));
        }
        if (!onPath("makedumpfile")) {
            missing.add("makedumpfile");
        }
        if (run(dir, List.of("/usr/bin/python3", "-c", "import drgn"), 60).exit() != 0) {
            missing.add("python3-drgn");
        }
        if (missing.isEmpty()) {
            return new Guest(q, kernel, vmlinux, release, crash);
        }
        String why = "debuggers " + arch + " needs " + String.join(", ", missing);
        assertFalse("1".equals(System.getenv("GUESTDUMP_REQUIRE_TOOLS")), "GUESTDUMP_REQUIRE_TOOLS=1 but " + why);
        assumeTrue(false, "skipped: " + why);
        return null;
    }

    /** The guest with its initramfs (VMCOREINFO through fw_cfg), dumped live through QMP. */
    private void live(Guest g, Map<String, String> table) throws Exception {
        String arch = g.qemu().arch();
        Path run = Files.createDirectories(dir.resolve(arch));
        Process qemu = boot(g, run, true);
        try (QemuInteropIT.Qmp q = new QemuInteropIT.Qmp(run.resolve("test-qmp.sock"))) {
            q.execute("stop");
            Path qemuElf = run.resolve("qemu.elf");
            Path qemuPaging = run.resolve("qemu-paging.elf");
            q.execute("dump-guest-memory", "{\"paging\":false,\"protocol\":\"file:" + qemuElf + "\"}");
            q.execute("dump-guest-memory", "{\"paging\":true,\"protocol\":\"file:" + qemuPaging + "\"}");
            // drgn's reference: QEMU's paging=true dump where drgn opens it, else our first output
            String drgnRef = null;
            try {
                drgnRef = drgn(g, run, qemuPaging, "QEMU paging=true", table);
            } catch (AssertionError e) {
                table.put("QEMU paging=true drgn", "fails: " + e.getMessage().lines().filter(l -> l.contains("Error"))
                        .findFirst().orElse(e.getMessage().lines().findFirst().orElse("")));
            }
            Files.delete(qemuPaging);
            String crashRef = crash(g, run, qemuElf, "QEMU paging=false", table, null);
            Files.delete(qemuElf);
            for (Output o : outputs(run, arch.equals("amd64"))) {
                Path file = run.resolve(o.name());
                List<String> args = new ArrayList<>(List.of("dump", "qmp:" + run.resolve("qmp.sock")));
                args.addAll(o.args());
                args.addAll(List.of("-o", file.toString()));
                Dist.Run r = Dist.guestdump(run, args.toArray(String[]::new)).expect(0);
                assertFalse(r.err().contains("WARN"), o.name() + ": " + r.err());
                String drgn = check(g, run, file, o, drgnRef, crashRef, table);
                drgnRef = drgnRef == null ? drgn : drgnRef;
                Files.delete(file);
            }
        } finally {
            stop(qemu);
        }
    }

    /**
     * The guest without its initramfs: the kernel panics (no root file system), qemu_fw_cfg never loads, QEMU has
     * no VMCOREINFO. QEMU dumps it; guestdump re-dumps that file and finds VMCOREINFO in the guest's memory.
     */
    private void panicked(Guest g, Map<String, String> table) throws Exception {
        Path run = Files.createDirectories(dir.resolve(g.qemu().arch() + "-panic"));
        Process qemu = boot(g, run, false);
        Path qemuElf = run.resolve("qemu.elf");
        try (QemuInteropIT.Qmp q = new QemuInteropIT.Qmp(run.resolve("test-qmp.sock"))) {
            q.execute("stop");
            q.execute("dump-guest-memory", "{\"paging\":false,\"protocol\":\"file:" + qemuElf + "\"}");
        } finally {
            stop(qemu);
        }
        String crashRef = crash(g, run, qemuElf, "panic: QEMU paging=false", table, null);
        assertTrue(crashRef.contains("panic"), "crash bt -a of the panicked guest shows the panic path:\n" + crashRef);
        for (Output o : outputs(run, true)) {
            if (o.name().contains("zlib") || o.name().contains("snappy")) {
                continue; // the codecs are covered on the live guest; here the VMCOREINFO scan is under test
            }
            Path file = run.resolve(o.name());
            List<String> args = new ArrayList<>(List.of("dump", "elf:" + qemuElf));
            args.addAll(o.args());
            args.addAll(List.of("-o", file.toString()));
            Dist.Run r = Dist.guestdump(run, args.toArray(String[]::new)).expect(0);
            assertTrue(r.out().contains("VMCOREINFO: from guest memory"), r.out());
            check(g, run, file, new Output("panic: " + o.name(), o.args()), null, crashRef, table);
            Files.delete(file);
        }
        Files.delete(qemuElf);
    }

    /** Every output guestdump writes; the dump levels when this build has them. */
    private List<Output> outputs(Path run, boolean everyCodec) throws Exception {
        List<Output> out = new ArrayList<>(List.of(
                new Output("ours.elf", List.of()),
                new Output("ours-paging.elf", List.of("--paging"))));
        for (String c : everyCodec ? List.of("zlib", "lzo", "snappy", "zstd") : List.of("zstd")) {
            out.add(new Output("ours-" + c + ".kdump", List.of("--format", "kdump-" + c)));
        }
        out.add(new Output("ours-paging-lzo.kdump", List.of("--paging", "--format", "kdump-lzo")));
        if (Dist.guestdump(run, "dump", "--help").out().contains("--dump-level")) {
            out.add(new Output("ours-d31.elf", List.of("--dump-level", "31")));
            out.add(new Output("ours-d31-paging.elf", List.of("--dump-level", "31", "--paging")));
            out.add(new Output("ours-d31-lzo.kdump", List.of("--dump-level", "31", "--format", "kdump-lzo")));
        }
        return out;
    }

    /** drgn, crash and (amd64) makedumpfile on one output; returns drgn's output. */
    private String check(Guest g, Path run, Path file, Output o, String drgnRef, String crashRef,
            Map<String, String> table) throws Exception {
        String drgn = drgn(g, run, file, o.name(), table);
        boolean level = o.name().contains("d31");
        if (drgnRef != null && !level) {
            assertEquals(drgnRef, drgn, o.name() + ": drgn says what it says on QEMU's paging=true dump (or on the"
                    + " first of ours where drgn cannot open that)");
        }
        boolean foreignCrashSubset = g.crash().size() > 1 && !(o.name().equals("ours.elf")
                || o.name().equals("ours-paging.elf") || o.name().equals("ours-zstd.kdump"));
        if (!foreignCrashSubset) {
            crash(g, run, file, o.name(), table, level ? null : crashRef);
        }
        if (g.qemu().arch().equals("amd64")) {
            makedumpfile(g, run, file, o.name(), table);
        }
        return drgn;
    }

    /** Runs the drgn script; returns its output without the trace lines that depend on garbage in drgn 0.0.22. */
    private String drgn(Guest g, Path run, Path file, String name, Map<String, String> table) throws Exception {
        Path py = run.resolve("drgn-check.py");
        Files.writeString(py, DRGN);
        Run r = run(run, List.of("/usr/bin/python3", py.toString(), file.toString(), g.vmlinux().toString()), 600);
        assertEquals(0, r.exit(), name + ": drgn failed:\n" + r.out() + r.err());
        String out = r.out();
        assertTrue(out.contains("release " + g.release() + "\n"), name + ": init_uts_ns.name.release:\n" + out);
        Matcher tasks = Pattern.compile("(?m)^tasks (\\d+)$").matcher(out);
        assertTrue(tasks.find() && Integer.parseInt(tasks.group(1)) > 20, name + ": for_each_task:\n" + out);
        Matcher sleeping = Pattern.compile("(?m)^sleeping (\\d+) in-scheduler (\\d+)$").matcher(out);
        assertTrue(sleeping.find(), out);
        int asleep = Integer.parseInt(sleeping.group(1));
        int inScheduler = Integer.parseInt(sleeping.group(2));
        // drgn 0.0.22 unwinds a task whose pid is a NT_PRSTATUS pr_pid (QEMU's cpu + 1) with that CPU's registers
        assertTrue(inScheduler > 0 && inScheduler >= asleep - 2, name + ": sleeping tasks unwind into the scheduler ("
                + inScheduler + " of " + asleep + "):\n" + out);
        String version = out.lines().filter(l -> l.startsWith("version ")).findFirst().orElseThrow().substring(8);
        List<String> cpus = out.lines().filter(l -> l.startsWith("cpu ")).toList();
        assertFalse(cpus.isEmpty(), out);
        if (atLeast(version, 0, 0, 25)) {
            for (String c : cpus) {
                assertTrue(c.contains("idle") || c.contains("panic"), name + ": a CPU's current task ends in the idle"
                        + " loop or the panic path: " + c);
            }
        }
        table.put(name + " drgn " + version, "opens; release; " + tasks.group(1) + " tasks; " + inScheduler + "/"
                + asleep + " sleeping tasks unwound into the scheduler");
        return out;
    }

    /** Runs crash's commands; checks them against {@code reference} (QEMU's output) when given. */
    private String crash(Guest g, Path run, Path file, String name, Map<String, String> table, String reference)
            throws Exception {
        Path cmds = run.resolve("crash.cmds");
        Files.writeString(cmds, String.join("\n", CRASH_COMMANDS) + "\nquit\n");
        List<String> cmd = new ArrayList<>(g.crash());
        cmd.addAll(List.of("-s", g.vmlinux().toString(), file.toString(), "-i", cmds.toString()));
        Run r = run(run, cmd, 1200);
        String out = (r.out() + r.err()).replace(file.toString(), "DUMPFILE").replace(file.getFileName().toString(),
                "DUMPFILE");
        assertEquals(0, r.exit(), name + ": crash failed:\n" + out);
        List<String> errors = out.lines().filter(l -> l.matches("^(crash|sys|ps|log|kmem): .*")).toList();
        assertTrue(errors.isEmpty(), name + ": crash sys/ps/log/kmem -i reported errors " + errors + ":\n" + out);
        assertTrue(out.contains("RELEASE: " + g.release()), name + ": crash sys:\n" + out);
        assertTrue(out.contains("TOTAL MEM"), name + ": crash kmem -i:\n" + out);
        if (reference != null) {
            assertEquals(reference, out, name + ": crash prints what it prints for QEMU's dump");
        }
        boolean bt = out.contains(" #0 ") && out.lines().noneMatch(l -> l.startsWith("bt: "));
        table.put(name + " crash", "sys ps log kmem -i: ok; bt -a: " + (bt ? "ok" : "fails") + (reference != null
                ? "; equal to QEMU's" : ""));
        return out;
    }

    private void makedumpfile(Guest g, Path run, Path file, String name, Map<String, String> table) throws Exception {
        Path dmesg = run.resolve("dmesg.txt");
        Files.deleteIfExists(dmesg);
        Run r = run(run, List.of("makedumpfile", "--dump-dmesg", file.toString(), dmesg.toString()), 600);
        Matcher unsupported = Pattern.compile("(\\w+) compression unsupported").matcher(r.out() + r.err());
        if (r.exit() != 0 && unsupported.find() && name.contains(unsupported.group(1))) {
            table.put(name + " makedumpfile --dump-dmesg", "Debian's makedumpfile is built without "
                    + unsupported.group(1));
            return;
        }
        assertEquals(0, r.exit(), name + ": makedumpfile --dump-dmesg:\n" + r.out() + r.err());
        String log = Files.readString(dmesg, StandardCharsets.ISO_8859_1);
        assertTrue(log.contains("Linux version " + g.release()), name + ": the kernel log:\n"
                + log.substring(0, Math.min(2000, log.length())));
        table.put(name + " makedumpfile --dump-dmesg", log.lines().count() + " log lines");
        Files.delete(dmesg);
    }

    private Process boot(Guest g, Path run, boolean initramfs) throws Exception {
        Path serial = run.resolve("serial.log");
        List<String> cmd = new ArrayList<>(List.of(g.qemu().qemu()));
        cmd.addAll(g.qemu().machine());
        cmd.addAll(List.of("-accel", "tcg", "-m", "512M", "-smp", "2", "-display", "none", "-monitor", "none",
                "-nic", "none", "-serial", "file:" + serial, "-qmp", "unix:" + run.resolve("qmp.sock")
                        + ",server=on,wait=off", "-qmp", "unix:" + run.resolve("test-qmp.sock") + ",server=on,wait=off",
                "-kernel", g.kernel().resolve("vmlinuz").toString(), "-append", "console=" + g.qemu().console()
                        + " panic=0", "-no-reboot", "-device", "vmcoreinfo"));
        if (initramfs) {
            cmd.addAll(List.of("-initrd", g.kernel().resolve("initrd.cpio.gz").toString()));
        }
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(run.resolve("qemu.out").toFile())
                .start();
        String marker = initramfs ? "GUESTDUMP-READY" : "end Kernel panic";
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(300);
        while (!(Files.exists(serial) && Files.readString(serial, StandardCharsets.ISO_8859_1).contains(marker))) {
            if (System.nanoTime() > end || !p.isAlive()) {
                stop(p);
                throw new AssertionError("no \"" + marker + "\" from the " + g.qemu().arch() + " guest:\n"
                        + (Files.exists(serial) ? Files.readString(serial, StandardCharsets.ISO_8859_1) : "")
                        + Files.readString(run.resolve("qemu.out")));
            }
            Thread.sleep(200);
        }
        return p;
    }

    private static void stop(Process p) throws InterruptedException {
        p.destroy();
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
            p.destroyForcibly();
        }
    }

    record Run(int exit, String out, String err) {}

    private static Run run(Path workDir, List<String> cmd, int seconds) throws IOException, InterruptedException {
        Path out = Files.createTempFile(workDir, "out", ".txt");
        Path err = Files.createTempFile(workDir, "err", ".txt");
        Process p = new ProcessBuilder(cmd).directory(workDir.toFile()).redirectOutput(out.toFile())
                .redirectError(err.toFile()).redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null")
                        .toFile())).start();
        if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("timed out after " + seconds + " s: " + cmd);
        }
        Run r = new Run(p.exitValue(), Files.readString(out, StandardCharsets.ISO_8859_1),
                Files.readString(err, StandardCharsets.ISO_8859_1));
        Files.delete(out);
        Files.delete(err);
        return r;
    }

    private static boolean atLeast(String version, int... want) {
        String[] parts = version.split("[.+]");
        for (int i = 0; i < want.length; i++) {
            int have = i < parts.length && parts[i].matches("\\d+") ? Integer.parseInt(parts[i]) : 0;
            if (have != want[i]) {
                return have > want[i];
            }
        }
        return true;
    }

    private static boolean onPath(String exe) {
        return Stream.of(System.getenv().getOrDefault("PATH", "").split(":"))
                .anyMatch(d -> Files.isExecutable(Path.of(d, exe)));
    }
}
