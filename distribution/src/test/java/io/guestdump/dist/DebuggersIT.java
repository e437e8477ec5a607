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
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kernel debuggers with the guest kernel's real symbols on every output guestdump writes, as a kernel engineer
 * would use them: the amd64, arm64, ppc64el and s390x interop guests (Debian kernels,
 * {@code bench/qemu-interop/prepare-kernel.sh}) are booted once each, paused, and dumped by QEMU
 * ({@code paging=false} and {@code paging=true}) and by guestdump in every output: ELF, {@code --paging} ELF, each
 * kdump codec (amd64; one elsewhere), and {@code --dump-level 31} where the build has it. amd64 and arm64 are dumped
 * live through QMP ({@code -device vmcoreinfo}); ppc64el and s390x have no fw_cfg for it, so guestdump re-dumps
 * QEMU's plain file of the live guest and finds VMCOREINFO by the memory scan. The symbols are Debian's
 * {@code linux-image-<version>-dbg} vmlinux of exactly that kernel ({@code bench/qemu-interop/prepare-dbg.sh}).
 *
 * <ul>
 *   <li>Two drgns: bookworm's python3-drgn 0.0.22 and trixie's 0.0.31 from a private root
 *       ({@code bench/qemu-interop/prepare-drgn-trixie.sh}). Each opens every output, reads
 *       {@code init_uts_ns.name.release}, lists the tasks with {@code for_each_task} and unwinds every sleeping task
 *       into the scheduler; from 0.0.25 on (which trusts NT_PRSTATUS by CPU) every CPU's current task
 *       ({@code runqueues.curr}, drgn's {@code cpu_curr}) must unwind into the idle loop or the panic path. drgn
 *       0.0.22 takes a CPU's registers only where {@code pr_pid} is the task's pid, which QEMU's (cpu + 1) and so
 *       ours never are. Each drgn's output equals its output on QEMU's {@code paging=true} dump, else on QEMU's
 *       plain one, else (no QEMU dump opens) on our first output.
 *   <li>crash runs {@code sys}, {@code ps}, {@code log}, {@code kmem -i} and {@code bt -a}: the same output as on
 *       QEMU's own plain dump where crash opens that, file name aside, and no error from the first four. The foreign
 *       arches run Debian's build of crash of that arch under qemu-user
 *       ({@code bench/qemu-interop/prepare-crash.sh ARCH}), on every output. crash reads the vmlinux with gdb's index
 *       added ({@code bench/qemu-interop/prepare-dbg-index.sh ARCH}), which cuts its start-up under qemu-user to a
 *       third, and runs beside drgn and makedumpfile on the same file.
 *   <li>makedumpfile {@code --dump-dmesg} (Debian's build of the arch; the foreign ones under qemu-user,
 *       {@code bench/qemu-interop/prepare-makedumpfile.sh ARCH}) reads every output, and the kernel log it prints is
 *       the guest's.
 * </ul>
 *
 * Then the amd64 guest booted without its initramfs: the kernel panics before loading qemu_fw_cfg, so QEMU has no
 * VMCOREINFO; guestdump re-dumps QEMU's file ({@code elf:}) and finds the kernel's note by the memory scan; the same
 * checks pass, crash's {@code bt -a} shows the panic path.
 *
 * <p>{@code GUESTDUMP_DEBUGGER_ARCHES} lists the arches (default {@code amd64 arm64 ppc64el s390x}); skipped when a
 * tool, QEMU, a kernel or its symbols are missing, unless {@code GUESTDUMP_REQUIRE_TOOLS=1}. What each tool said of
 * each output goes to {@code target/debuggers-ARCH.md}; its condensed table ({@code target/consumers-ARCH.md}) must be
 * the one docs/consumers.md shows for that arch ({@link #docsAgree}).
 */
class DebuggersIT {
    @TempDir
    Path dir;

    /** The second thread {@link #beside} runs crash on. */
    private final ExecutorService second = Executors.newSingleThreadExecutor();

    @AfterEach
    void stopSecond() {
        second.shutdownNow();
    }

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
            "def frame(f):",
            "    if getattr(f, 'name', None):",
            "        return f.name",
            "    try:",
            "        return hex(f.pc)",
            "    except LookupError:",  // a frame from an offline CPU's all-zero registers
            "        return '?'",
            "def names(trace):",
            "    return ' <- '.join(frame(f) for f in trace)",
            "def trace(t):",  // drgn 0.0.22 reads a CPU's current task from stale registers, which may fault
            "    try:",
            "        return names(prog.stack_trace(t))",
            "    except drgn.FaultError as e:",  // the address only: ELF and kdump readers word the fault apart
            "        return '! fault at ' + hex(e.address)",
            "    except ValueError as e:",
            "        return '! ' + str(e)",
            "running = set()",
            "for cpu in for_each_online_cpu(prog):",
            "    t = per_cpu(prog['runqueues'], cpu).curr",  // cpu_curr(prog, cpu), which 0.0.22 lacks
            "    running.add(t.value_())",
            "    print('cpu', cpu, t.comm.string_().decode(), trace(t))",
            "scheduled = asleep = 0",
            "for t in tasks:",
            "    if t.value_() in running:",
            "        continue",
            "    asleep += 1",
            "    s = trace(t)",
            "    if 'schedule' in s:",
            "        scheduled += 1",
            "    print('task', t.pid.value_(), t.comm.string_().decode(), s)",
            "print('sleeping', asleep, 'in-scheduler', scheduled)");

    static final List<String> CRASH_COMMANDS = List.of("sys", "ps", "log", "kmem -i", "bt -a");

    /** The frames a CPU's current task shows when that CPU idles (generic loop and each arch's wait) or panicked. */
    static final Pattern IDLE_OR_PANIC = Pattern.compile("(^| <- )(do_idle|cpu_idle_poll|default_idle_call"
            + "|default_idle|arch_cpu_idle|cpu_do_idle|psw_idle|panic|stop_this_cpu|ipi_cpu_stop|panic_smp_self_stop"
            + "|smp_stop_cpu)( <- |$)");

    /**
     * The kernel's entries from user space on each arch: a CPU paused while a user task was in the kernel (a system
     * call or a fault) unwinds through one of them, which shows the whole kernel stack was read.
     */
    static final Pattern USER_ENTRY = Pattern.compile("(^| <- )(system_call|pgm_check_handler|entry_SYSCALL_64"
            + "|entry_SYSCALL_64_after_hwframe|asm_exc_page_fault|el0t_64_sync|el0_svc|el0_da|system_call_common"
            + "|system_call_vectored_common|interrupt_return_srr_user)( <- |$)");

    /** A per-CPU line of the drgn script: cpu, comm, trace. */
    static final Pattern CPU_LINE = Pattern.compile("cpu (\\d+) (\\S+) (.*)");

    /** The table's columns, in order; a results file lists every output with one cell per column. */
    static final String DRGN_COLUMN = "drgn ";
    static final String CRASH_COLUMN = "crash 8.0.2";
    static final String MAKEDUMPFILE_COLUMN = "makedumpfile --dump-dmesg";

    /** One output: its name and how guestdump makes it. */
    record Output(String name, List<String> args) {}

    /** A drgn: the Python that imports it, and its version. */
    record Drgn(List<String> python, String version) {
        String column() {
            return DRGN_COLUMN + version;
        }
    }

    /** A drgn's reference output: what it said of the file named {@code of}. */
    record DrgnRef(String of, String out) {}

    /** What each tool said of each output (rows in the order they were checked), for target/debuggers-ARCH.md. */
    static final class Results {
        final Map<String, Map<String, String>> rows = new LinkedHashMap<>();
        final Set<String> columns = new LinkedHashSet<>();

        /** Fixes the order of the tools' columns, whichever of crash and drgn answers first. */
        synchronized void columns(List<String> tools) {
            columns.addAll(tools);
        }

        /** Makes the output's row, so rows keep the order outputs are checked in whichever tool answers first. */
        synchronized void row(String output) {
            rows.computeIfAbsent(output, k -> new LinkedHashMap<>());
        }

        synchronized void put(String output, String tool, String result) {
            columns.add(tool);
            rows.computeIfAbsent(output, k -> new LinkedHashMap<>()).put(tool, result);
        }

        synchronized String get(String output, String tool) {
            return rows.get(output).get(tool);
        }

        /**
         * The table docs/consumers.md shows: each cell shortened to what every run of the same build says (the counts
         * of tasks and log lines, the idle CPU a pause caught in an interrupt and the addresses in error messages
         * vary from boot to boot and are left to target/debuggers-ARCH.md).
         */
        synchronized String condensed() {
            StringBuilder b = new StringBuilder("| output |");
            columns.forEach(c -> b.append(' ').append(c).append(" |"));
            b.append("\n|---|");
            columns.forEach(c -> b.append("---|"));
            b.append('\n');
            rows.forEach((output, cells) -> {
                b.append("| ").append(output).append(" |");
                columns.forEach(c -> b.append(' ').append(condense(cells.getOrDefault(c, "not run"))).append(" |"));
                b.append('\n');
            });
            return b.toString();
        }

        synchronized String markdown(String title) {
            StringBuilder b = new StringBuilder("## " + title + "\n\n| output |");
            columns.forEach(c -> b.append(' ').append(c).append(" |"));
            b.append("\n|---|");
            columns.forEach(c -> b.append("---|"));
            b.append('\n');
            rows.forEach((output, cells) -> {
                b.append("| ").append(output).append(" |");
                columns.forEach(c -> b.append(' ').append(cells.getOrDefault(c, "not run")).append(" |"));
                b.append('\n');
            });
            return b.toString();
        }
    }

    @Test
    void drgnCrashAndMakedumpfileReadEveryOutputWithTheKernelsSymbols() throws Exception {
        String arches = System.getenv().getOrDefault("GUESTDUMP_DEBUGGER_ARCHES", "amd64 arm64 ppc64el s390x");
        Map<String, AssertionError> failed = new LinkedHashMap<>();
        for (String arch : arches.trim().split("[ ,]+")) {
            Results table = new Results();
            Guest g = ready(arch);
            if (g == null) {
                continue;
            }
            table.columns(Stream.concat(g.drgns().stream().map(Drgn::column), Stream.of(CRASH_COLUMN,
                    MAKEDUMPFILE_COLUMN)).toList());
            long start = System.nanoTime();
            boolean passed = false;
            try {
                live(g, table);
                if (arch.equals("amd64")) {
                    panicked(g, table);
                }
                passed = true;
            } catch (AssertionError e) { // the other arches still run, so every results file is written
                failed.put(arch, e);
            } finally {
                String report = table.markdown(arch + " (" + g.release() + "), DebuggersIT") + "\n";
                System.out.print(report);
                System.out.printf("DebuggersIT %s: %d s%n", arch, TimeUnit.NANOSECONDS.toSeconds(System.nanoTime()
                        - start));
                Files.createDirectories(Path.of("target"));
                Files.writeString(Path.of("target", "debuggers-" + arch + ".md"), report);
                Files.writeString(Path.of("target", "consumers-" + arch + ".md"), table.condensed());
            }
            if (passed) {
                try {
                    docsAgree(arch, table.condensed());
                } catch (AssertionError e) {
                    failed.put(arch, e);
                }
            }
        }
        if (!failed.isEmpty()) {
            AssertionError all = new AssertionError("debuggers failed on " + failed.keySet() + ": " + failed.values()
                    .iterator().next().getMessage());
            failed.values().forEach(all::addSuppressed);
            throw all;
        }
    }

    /** One cell of the full table as docs/consumers.md shows it (see {@link Results#condensed}). */
    static String condense(String cell) {
        if (!cell.startsWith("ok")) {
            return cell.replaceAll("0x[0-9a-f]{6,}", "0x…");
        }
        List<String> notes = new ArrayList<>();
        if (cell.contains("asleep in the scheduler")) {
            notes.add("asleep unwound");
        }
        if (cell.contains("in the idle loop or the panic path")) {
            notes.add("CPUs: idle/panic");
        } else if (cell.contains("in the idle loop")) {
            notes.add("CPUs: idle loop");
        }
        if (cell.contains("no stack reads")) {
            notes.add("no stack reads (no s390x translation)");
        }
        if (cell.contains("bt -a **fails**")) {
            notes.add("`bt -a` fails");
        } else if (cell.contains("bt -a ok")) {
            notes.add("`bt -a` ok");
        }
        if (cell.contains("log lines, the guest's banner")) {
            notes.add("the guest's log");
        }
        Matcher equal = Pattern.compile("equal to (.*)$").matcher(cell);
        if (equal.find()) {
            notes.add("= " + equal.group(1).replace("QEMU's", "QEMU").replace(" ELF", ""));
        }
        return "ok" + (notes.isEmpty() ? "" : ": " + String.join(", ", notes));
    }

    /**
     * docs/consumers.md shows, between {@code <!-- DebuggersIT ARCH begin -->} and {@code <!-- DebuggersIT ARCH end
     * -->}, the condensed table this run wrote: a change in what a tool says of an output fails here until the docs
     * say it too. Only those lines are compared, so edits to the prose around them never fail;
     * {@code GUESTDUMP_UPDATE_DOCS=1} writes this run's table into the file instead.
     */
    static void docsAgree(String arch, String table) throws IOException {
        Path docs = Path.of("..", "docs", "consumers.md");
        if (!Files.isRegularFile(docs)) { // a distribution built outside the source tree has no docs to check
            assertFalse("1".equals(System.getenv("GUESTDUMP_REQUIRE_TOOLS")), "no " + docs.toAbsolutePath());
            return;
        }
        String text = Files.readString(docs);
        String begin = "<!-- DebuggersIT " + arch + " begin -->\n";
        String end = "<!-- DebuggersIT " + arch + " end -->";
        int from = text.indexOf(begin);
        int to = text.indexOf(end);
        assertTrue(from >= 0 && to > from, "docs/consumers.md has no '" + begin.trim() + "' ... '" + end
                + "' block for the table of target/consumers-" + arch + ".md");
        String shown = text.substring(from + begin.length(), to);
        if (shown.equals(table)) {
            return;
        }
        if ("1".equals(System.getenv("GUESTDUMP_UPDATE_DOCS"))) {
            Files.writeString(docs, text.substring(0, from + begin.length()) + table + text.substring(to));
            return;
        }
        List<String> was = shown.lines().toList();
        List<String> now = table.lines().toList();
        String diff = String.join("\n", now.stream().filter(l -> !was.contains(l)).map(l -> "  now:  " + l).toList())
                + "\n" + String.join("\n", was.stream().filter(l -> !now.contains(l)).map(l -> "  docs: " + l)
                .toList());
        throw new AssertionError("docs/consumers.md's " + arch + " table is not what the tools said in this run"
                + " (target/consumers-" + arch + ".md; GUESTDUMP_UPDATE_DOCS=1 writes it into the docs):\n" + diff);
    }

    /** What a guest needs; null (and a skip message) when something is missing outside CI. */
    record Guest(QemuInteropIT.Guest qemu, Path kernel, Path vmlinux, Path indexedVmlinux, String release,
            List<String> crash, List<String> makedumpfile, List<Drgn> drgns) {}

    /** qemu-user's name of each foreign arch whose Debian crash build runs under it. */
    static final Map<String, String> QEMU_USER = Map.of("arm64", "aarch64", "ppc64el", "ppc64le", "s390x", "s390x");

    private Guest ready(String arch) throws Exception {
        QemuInteropIT.Guest q = QemuInteropIT.GUESTS.get(arch);
        assertTrue(q != null && (arch.equals("amd64") || QEMU_USER.containsKey(arch)), "arch " + arch
                + " in GUESTDUMP_DEBUGGER_ARCHES: one of amd64 " + String.join(" ", QEMU_USER.keySet()));
        Path cache = Path.of(System.getenv().getOrDefault("GUESTDUMP_CACHE",
                System.getProperty("user.home") + "/.cache/guestdump"));
        Path kernel = cache.resolve("qemu").resolve(arch);
        Path kver = kernel.resolve("kernel-version");
        String release = Files.isRegularFile(kver) ? Files.readString(kver).trim() : "";
        Path vmlinux = cache.resolve("dbg").resolve(arch).resolve("vmlinux-" + release);
        // crash reads the same vmlinux with gdb's index added: its start-up is then seconds, not a minute (qemu-user)
        Path indexed = cache.resolve("dbg").resolve(arch).resolve("vmlinux-" + release + "-indexed");
        Path crashRoot = cache.resolve("crash").resolve(arch).resolve("root");
        List<String> crash = arch.equals("amd64") ? List.of("crash") : List.of("qemu-" + QEMU_USER.get(arch)
                + "-static", "-L", crashRoot.toString(), crashRoot.resolve("usr/bin/crash").toString());
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
            missing.add(String.join(" ", crash) + (crash.size() > 1 ? " (bench/qemu-interop/prepare-crash.sh " + arch
                    + ")" : ""));
        }
        if (!Files.isRegularFile(indexed)) {
            missing.add(indexed + " (bench/qemu-interop/prepare-dbg-index.sh " + arch + ")");
        }
        Path mdfRoot = cache.resolve("makedumpfile").resolve(arch).resolve("root");
        List<String> makedumpfile = arch.equals("amd64") ? List.of("makedumpfile") : List.of("qemu-"
                + QEMU_USER.get(arch) + "-static", "-L", mdfRoot.toString(), mdfRoot.resolve("usr/bin/makedumpfile")
                .toString());
        if (!onPath(makedumpfile.get(0)) || makedumpfile.size() > 1 && !Files.isExecutable(Path.of(makedumpfile
                .get(3)))) {
            missing.add(String.join(" ", makedumpfile) + (makedumpfile.size() > 1
                    ? " (bench/qemu-interop/prepare-makedumpfile.sh " + arch + ")" : ""));
        }
        // bookworm's drgn (python3-drgn 0.0.22) and trixie's (0.0.31, the only one that unwinds every CPU here)
        List<Drgn> drgns = new ArrayList<>();
        for (List<String> python : List.of(List.of("/usr/bin/python3"),
                List.of(cache.resolve("drgn-trixie/python").toString()))) {
            Path exe = Path.of(python.get(0));
            Run v = Files.isExecutable(exe) ? run(dir, concat(python, "-c", "import drgn; print(drgn.__version__)"), 60)
                    : new Run(127, "", exe + " missing");
            if (v.exit() == 0) {
                drgns.add(new Drgn(python, v.out().trim()));
            } else {
                missing.add(python.get(0).startsWith("/usr") ? "python3-drgn" : python.get(0)
                        + " (bench/qemu-interop/prepare-drgn-trixie.sh)");
            }
        }
        if (missing.isEmpty()) {
            assertTrue(drgns.stream().anyMatch(d -> atLeast(d.version(), 0, 0, 25)), "a drgn >= 0.0.25 for the"
                    + " per-CPU check: " + drgns);
            return new Guest(q, kernel, vmlinux, indexed, release, crash, makedumpfile, drgns);
        }
        String why = "debuggers " + arch + " needs " + String.join(", ", missing);
        assertFalse("1".equals(System.getenv("GUESTDUMP_REQUIRE_TOOLS")), "GUESTDUMP_REQUIRE_TOOLS=1 but " + why);
        assumeTrue(false, "skipped: " + why);
        return null;
    }

    /**
     * The guest with its initramfs, paused. Where QEMU has {@code -device vmcoreinfo} (amd64, arm64) guestdump dumps
     * it live through QMP; elsewhere (ppc64el, s390x: no fw_cfg) guestdump re-dumps QEMU's {@code paging=false} file
     * of it ({@code elf:}) and finds VMCOREINFO by the memory scan, as the README tells such users to.
     */
    private void live(Guest g, Results table) throws Exception {
        String arch = g.qemu().arch();
        Path run = Files.createDirectories(dir.resolve(arch));
        Process qemu = boot(g, run, true);
        Path qemuElf = run.resolve("qemu.elf");
        Path qemuPaging = run.resolve("qemu-paging.elf");
        boolean viaQmp = g.qemu().vmcoreinfo();
        Map<Drgn, DrgnRef> drgnRef = new LinkedHashMap<>();
        String crashRef;
        try {
            try (QemuInteropIT.Qmp q = new QemuInteropIT.Qmp(run.resolve("test-qmp.sock"))) {
                q.execute("stop");
                q.execute("dump-guest-memory", "{\"paging\":false,\"protocol\":\"file:" + qemuElf + "\"}");
                q.execute("dump-guest-memory", "{\"paging\":true,\"protocol\":\"file:" + qemuPaging + "\"}");
            }
            if (!viaQmp) {
                stop(qemu); // every output comes from QEMU's file
            }
            table.row("QEMU paging=true ELF");
            table.row("QEMU paging=false ELF");
            Future<String> crashOnQemu = beside(() -> crash(g, run, qemuElf, "QEMU paging=false ELF", table, null,
                    false));
            // drgn's reference: its output on QEMU's paging=true dump, else on QEMU's plain one, else on our first
            for (Path file : List.of(qemuPaging, qemuElf)) {
                String name = file == qemuPaging ? "QEMU paging=true ELF" : "QEMU paging=false ELF";
                for (Drgn d : g.drgns()) {
                    String out = drgn(g, d, run, file, name, table, false);
                    if (out != null) {
                        drgnRef.putIfAbsent(d, new DrgnRef(name, out));
                    }
                }
            }
            Files.delete(qemuPaging);
            crashRef = join(crashOnQemu);
            table.put("QEMU paging=true ELF", CRASH_COLUMN, "not run (crash's reference is QEMU's paging=false dump)");
            if (viaQmp) {
                Files.delete(qemuElf);
            }
            for (Output o : outputs(run)) {
                Path file = run.resolve(o.name());
                List<String> args = new ArrayList<>(List.of("dump", viaQmp ? "qmp:" + run.resolve("qmp.sock")
                        : "elf:" + qemuElf));
                args.addAll(o.args());
                args.addAll(List.of("-o", file.toString()));
                Dist.Run r = Dist.guestdump(run, args.toArray(String[]::new));
                // the same missing LPCR: vmemmap is not mapped, so no dump level reads the struct pages
                if (!viaQmp && arch.equals("ppc64el") && o.name().contains("d31") && r.exit() == 2
                        && r.err().contains("names no struct page array this dump can read")) {
                    table.put(o.name(), "guestdump's warning", "refused (exit 2): QEMU's ppc64 ELF has no LPCR, the"
                            + " linear map only, so no struct page array to read");
                    continue;
                }
                r.expect(0);
                List<String> warnings = r.err().lines().filter(l -> l.contains("WARN")).toList();
                // QEMU's ppc64 notes carry no LPCR, so a re-dump of its file cannot tell radix from hash: --paging
                // reports the linear map only, and says so (the live QMP source reads LPCR)
                boolean noLpcr = !viaQmp && arch.equals("ppc64el") && !warnings.isEmpty() && warnings.stream()
                        .allMatch(l -> l.contains("hash MMU (LPCR.HR clear)"));
                assertTrue(warnings.isEmpty() || noLpcr, o.name() + ": " + r.err());
                if (noLpcr) {
                    table.put(o.name(), "guestdump's warning", "QEMU's ppc64 ELF has no LPCR: linear map and vmemmap"
                            + " only, no vmalloc");
                }
                if (!viaQmp) {
                    assertTrue(r.out().contains("VMCOREINFO: from guest memory"), r.out());
                }
                check(g, run, file, o, drgnRef, crashRef, table);
                Files.delete(file);
            }
        } finally {
            stop(qemu);
        }
        Files.deleteIfExists(qemuElf);
    }

    /**
     * The guest without its initramfs: the kernel panics (no root file system), qemu_fw_cfg never loads, QEMU has
     * no VMCOREINFO. QEMU dumps it; guestdump re-dumps that file and finds VMCOREINFO in the guest's memory.
     */
    private void panicked(Guest g, Results table) throws Exception {
        Path run = Files.createDirectories(dir.resolve(g.qemu().arch() + "-panic"));
        Process qemu = boot(g, run, false);
        Path qemuElf = run.resolve("qemu.elf");
        try (QemuInteropIT.Qmp q = new QemuInteropIT.Qmp(run.resolve("test-qmp.sock"))) {
            q.execute("stop");
            q.execute("dump-guest-memory", "{\"paging\":false,\"protocol\":\"file:" + qemuElf + "\"}");
        } finally {
            stop(qemu);
        }
        table.row("panic: QEMU paging=false ELF");
        Future<String> crashOnQemu = beside(() -> crash(g, run, qemuElf, "panic: QEMU paging=false ELF", table, null,
                true));
        Map<Drgn, DrgnRef> drgnRef = new LinkedHashMap<>();
        for (Drgn d : g.drgns()) {
            String out = drgn(g, d, run, qemuElf, "panic: QEMU paging=false ELF", table, false);
            if (out != null) {
                drgnRef.put(d, new DrgnRef("QEMU paging=false ELF", out));
            }
        }
        String crashRef = join(crashOnQemu);
        assertTrue(crashRef.contains("panic"), "crash bt -a of the panicked guest shows the panic path:\n" + crashRef);
        for (Output o : outputs(run)) {
            if (o.name().contains("zlib") || o.name().contains("snappy")) {
                continue; // the codecs are covered on the live guest; here the VMCOREINFO scan is under test
            }
            Path file = run.resolve(o.name());
            List<String> args = new ArrayList<>(List.of("dump", "elf:" + qemuElf));
            args.addAll(o.args());
            args.addAll(List.of("-o", file.toString()));
            Dist.Run r = Dist.guestdump(run, args.toArray(String[]::new)).expect(0);
            assertTrue(r.out().contains("VMCOREINFO: from guest memory"), r.out());
            check(g, run, file, new Output("panic: " + o.name(), o.args()), drgnRef, crashRef, table);
            Files.delete(file);
        }
        Files.delete(qemuElf);
    }

    /** Every output guestdump writes; the dump levels when this build has them. */
    private List<Output> outputs(Path run) throws Exception {
        List<Output> out = new ArrayList<>(List.of(
                new Output("ours.elf", List.of()),
                new Output("ours-paging.elf", List.of("--paging"))));
        for (String c : List.of("zlib", "lzo", "snappy", "zstd")) {
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

    /** Every drgn, crash and makedumpfile on one of our outputs; crash runs beside the others (two cores). */
    private void check(Guest g, Path run, Path file, Output o, Map<Drgn, DrgnRef> drgnRef, String crashRef,
            Results table) throws Exception {
        boolean level = o.name().contains("d31");
        table.row(o.name());
        Future<String> crash = beside(() -> crash(g, run, file, o.name(), table, level ? null : crashRef, true));
        try {
            readers(g, run, file, o, drgnRef, table);
        } catch (Exception | Error e) {
            crash.cancel(true);
            throw e;
        }
        join(crash);
    }

    /**
     * {@code ours} with each {@code cpu N} stack cut back to the reference's where it only goes deeper: a file that
     * holds all RAM lets drgn's unwinder read a stack slot that a paging=true file (mapped pages only) does not, so
     * an idle vCPU caught at the wrong instant shows one more (garbage) frame there, as seen in a CI run. Every
     * other line must be equal.
     */
    static String sameOrDeeper(String ref, String ours) {
        List<String> r = ref.lines().toList();
        List<String> o = new ArrayList<>(ours.lines().toList());
        if (r.size() != o.size()) {
            return ours;
        }
        for (int i = 0; i < r.size(); i++) {
            if (r.get(i).startsWith("cpu ") && o.get(i).startsWith(r.get(i) + " <- ")) {
                o.set(i, r.get(i));
            }
        }
        return String.join("\n", o) + (ours.endsWith("\n") ? "\n" : "");
    }

    /** drgn and makedumpfile on one of our outputs (crash runs beside them). */
    private void readers(Guest g, Path run, Path file, Output o, Map<Drgn, DrgnRef> drgnRef, Results table)
            throws Exception {
        boolean level = o.name().contains("d31");
        for (Drgn d : g.drgns()) {
            String drgn = drgn(g, d, run, file, o.name(), table, true);
            DrgnRef ref = drgnRef.get(d);
            if (ref != null && !level) {
                assertEquals(ref.out(), sameOrDeeper(ref.out(), drgn), o.name() + ": drgn " + d.version() + " says "
                        + "what it says on " + ref.of() + " (QEMU's dump, or the first of ours where drgn cannot open "
                        + "QEMU's)");
                table.put(o.name(), d.column(), table.get(o.name(), d.column()) + "; equal to "
                        + ref.of().replace("panic: ", ""));
            }
            drgnRef.putIfAbsent(d, new DrgnRef(o.name(), drgn));
        }
        makedumpfile(g, run, file, o.name(), table);
    }

    /**
     * Starts {@code work} on the second thread: crash (the slowest reader, under qemu-user) runs while drgn and
     * makedumpfile read the same file, so the two CI cores both work. Each process writes its own files; the results
     * are joined before the file is deleted, so nothing depends on which ends first.
     */
    private <T> Future<T> beside(Callable<T> work) {
        return second.submit(work);
    }

    /** The result of {@link #beside}, its assertion failure or exception thrown as it was. */
    private static <T> T join(Future<T> f) throws Exception {
        try {
            return f.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw (Exception) e.getCause();
        }
    }

    /**
     * Runs the drgn script and checks what it says: the release, the tasks, the sleeping tasks unwound into the
     * scheduler and, from drgn 0.0.25 on, every CPU's current task in the idle loop or the panic path. Returns its
     * output; null when drgn cannot open the file and {@code mustOpen} is false (QEMU's dumps), with the reason in
     * the table.
     */
    private String drgn(Guest g, Drgn d, Path run, Path file, String name, Results table, boolean mustOpen)
            throws Exception {
        Path py = run.resolve("drgn-check.py");
        Files.writeString(py, DRGN);
        Run r = run(run, concat(d.python(), py.toString(), file.toString(), g.vmlinux().toString()), 600);
        if (r.exit() != 0 && !mustOpen) {
            String why = r.err().lines().filter(l -> !l.startsWith(" ") && !l.startsWith("Traceback")).reduce((a, b)
                    -> b).orElse("exit " + r.exit());
            table.put(name, d.column(), "**fails**: " + why.replace("|", "\\|"));
            return null;
        }
        assertEquals(0, r.exit(), name + ": drgn " + d.version() + " failed:\n" + r.out() + r.err());
        String out = r.out();
        assertTrue(out.contains("version " + d.version() + "\n"), out);
        assertTrue(out.contains("release " + g.release() + "\n"), name + ": init_uts_ns.name.release:\n" + out);
        Matcher tasks = Pattern.compile("(?m)^tasks (\\d+)$").matcher(out);
        assertTrue(tasks.find() && Integer.parseInt(tasks.group(1)) > 20, name + ": for_each_task:\n" + out);
        Matcher sleeping = Pattern.compile("(?m)^sleeping (\\d+) in-scheduler (\\d+)$").matcher(out);
        assertTrue(sleeping.find(), out);
        int asleep = Integer.parseInt(sleeping.group(1));
        int inScheduler = Integer.parseInt(sleeping.group(2));
        // drgn 0.0.22 unwinds a task whose pid is a NT_PRSTATUS pr_pid (QEMU's cpu + 1) with that CPU's registers
        if (noStacks(g, d) && inScheduler == 0) { // a --paging file's PT_LOADs map the stacks for it
            table.put(name, d.column(), "ok: release; " + tasks.group(1) + " tasks; no stack reads (" + d.version()
                    + " has no s390x page-table translation; only --paging's PT_LOADs map the vmap'd stacks)");
            return comparable(g, d, out);
        }
        assertTrue(inScheduler > 0 && inScheduler >= asleep - 2, name + ": sleeping tasks unwind into the scheduler ("
                + inScheduler + " of " + asleep + "):\n" + out);
        List<String> cpus = out.lines().filter(l -> l.startsWith("cpu ")).toList();
        assertFalse(cpus.isEmpty(), out);
        String perCpu;
        if (atLeast(d.version(), 0, 0, 25)) {
            List<String> inInterrupt = new ArrayList<>();
            List<String> inUser = new ArrayList<>();
            for (String c : cpus) {
                Matcher m = CPU_LINE.matcher(c);
                assertTrue(m.matches(), c);
                if (IDLE_OR_PANIC.matcher(m.group(3)).find()) {
                    continue;
                }
                if (!m.group(2).startsWith("swapper/") && USER_ENTRY.matcher(m.group(3)).find()) {
                    // the guest was paused while this CPU ran a user task in the kernel: unwound to its entry
                    inUser.add(m.group(1) + " (" + m.group(2) + ")");
                    continue;
                }
                // an idle CPU caught in an interrupt, where drgn stops at the interrupt frame (s390x)
                assertTrue(m.group(2).equals("swapper/" + m.group(1)) && m.group(3).contains("irq_exit"), name
                        + ": drgn " + d.version() + ": a CPU's current task is in the idle loop or the panic path: "
                        + c);
                inInterrupt.add(m.group(1));
            }
            perCpu = "; all " + cpus.size() + " CPUs' current tasks in "
                    + (out.contains("panic") ? "the idle loop or the panic path" : "the idle loop") + (inInterrupt
                    .isEmpty() ? "" : " (CPU " + String.join(", ", inInterrupt) + ": the idle task in an interrupt;"
                    + " drgn stops at the interrupt frame)") + (inUser.isEmpty() ? "" : " (CPU "
                    + String.join(", ", inUser) + ": a user task in a system call or fault, unwound to the kernel's"
                    + " entry)");
        } else {
            perCpu = "; CPUs not checked (< 0.0.25: registers only where pr_pid is the task's pid)";
        }
        table.put(name, d.column(), "ok: release; " + tasks.group(1) + " tasks; " + inScheduler + "/" + asleep
                + " asleep in the scheduler" + perCpu);
        return comparable(g, d, out);
    }

    /**
     * drgn 0.0.22 cannot translate s390x kernel virtual addresses, so the vmap'd kernel stacks read only where the
     * file's PT_LOADs map them ({@code --paging}); its files are compared without the traces.
     */
    private static boolean noStacks(Guest g, Drgn d) {
        return g.qemu().arch().equals("s390x") && !atLeast(d.version(), 0, 0, 25);
    }

    /** drgn's output as compared between files: without the stack traces where they do not read. */
    private static String comparable(Guest g, Drgn d, String out) {
        return noStacks(g, d) ? out.lines().filter(l -> !l.matches("^(cpu|task|sleeping) .*")).map(l -> l + "\n")
                .reduce("", String::concat) : out;
    }

    /**
     * Runs crash's commands; checks them against {@code reference} (QEMU's output) when given. QEMU's own dump
     * ({@code mustOpen} false) may be one crash refuses; then the reason goes to the table and the result is null.
     */
    private String crash(Guest g, Path run, Path file, String name, Results table, String reference,
            boolean mustOpen) throws Exception {
        Path cmds = run.resolve("crash.cmds");
        Files.writeString(cmds, String.join("\n", CRASH_COMMANDS) + "\nquit\n");
        List<String> cmd = new ArrayList<>(g.crash());
        cmd.addAll(List.of("-s", g.indexedVmlinux().toString(), file.toString(), "-i", cmds.toString()));
        Run r = run(run, cmd, 1800);
        String out = (r.out() + r.err()).replace(file.toString(), "DUMPFILE").replace(file.getFileName().toString(),
                "DUMPFILE");
        if (r.exit() != 0 && !mustOpen) {
            String why = out.lines().filter(l -> l.startsWith("crash: ")).findFirst().orElse("exit " + r.exit());
            table.put(name, CRASH_COLUMN, "**fails**: " + why.replace("|", "\\|"));
            return null;
        }
        assertEquals(0, r.exit(), name + ": crash failed:\n" + out);
        List<String> errors = out.lines().filter(l -> l.matches("^(crash|sys|ps|log|kmem): .*")).toList();
        assertTrue(errors.isEmpty(), name + ": crash sys/ps/log/kmem -i reported errors " + errors + ":\n" + out);
        assertTrue(out.contains("RELEASE: " + g.release()), name + ": crash sys:\n" + out);
        assertTrue(out.contains("TOTAL MEM"), name + ": crash kmem -i:\n" + out);
        if (reference != null) {
            assertEquals(reference, out, name + ": crash prints what it prints for QEMU's dump");
        }
        boolean bt = out.contains(" #0 ") && out.lines().noneMatch(l -> l.startsWith("bt: "));
        String btFailure = out.lines().filter(l -> l.startsWith("bt: ")).findFirst().orElse("");
        table.put(name, CRASH_COLUMN, "ok: sys ps log kmem -i; bt -a " + (bt ? "ok" : "**fails** ("
                + btFailure.replace("|", "\\|") + ")") + (reference != null ? "; equal to QEMU's" : ""));
        return out;
    }

    private void makedumpfile(Guest g, Path run, Path file, String name, Results table) throws Exception {
        Path dmesg = run.resolve("dmesg.txt");
        Files.deleteIfExists(dmesg);
        Run r = run(run, concat(g.makedumpfile(), "--dump-dmesg", file.toString(), dmesg.toString()), 600);
        Matcher unsupported = Pattern.compile("(\\w+) compression unsupported").matcher(r.out() + r.err());
        if (r.exit() != 0 && unsupported.find() && name.contains(unsupported.group(1))) {
            table.put(name, MAKEDUMPFILE_COLUMN, "Debian's makedumpfile is built without "
                    + unsupported.group(1));
            return;
        }
        assertEquals(0, r.exit(), name + ": makedumpfile --dump-dmesg:\n" + r.out() + r.err());
        String log = Files.readString(dmesg, StandardCharsets.ISO_8859_1);
        assertTrue(log.contains("Linux version " + g.release()), name + ": the kernel log:\n"
                + log.substring(0, Math.min(2000, log.length())));
        table.put(name, MAKEDUMPFILE_COLUMN, "ok: " + log.lines().count() + " log lines, the guest's banner");
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
                        + " panic=0", "-no-reboot"));
        if (g.qemu().vmcoreinfo()) {
            cmd.addAll(List.of("-device", "vmcoreinfo"));
        }
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
        try {
            if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("timed out after " + seconds + " s: " + cmd);
            }
        } catch (InterruptedException e) { // the other thread failed and cancelled this one: leave no process
            p.destroyForcibly().waitFor();
            throw e;
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

    private static List<String> concat(List<String> head, String... tail) {
        List<String> all = new ArrayList<>(head);
        all.addAll(List.of(tail));
        return all;
    }

    private static boolean onPath(String exe) {
        return Stream.of(System.getenv().getOrDefault("PATH", "").split(":"))
                .anyMatch(d -> Files.isExecutable(Path.of(d, exe)));
    }
}
