package io.guestdump.core.source.qmp;

import io.guestdump.arch.api.DumpTarget;
import io.guestdump.arch.api.GuestState;
import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.arch.api.UnsupportedGuestException;
import io.guestdump.arch.api.VcpuState;
import io.guestdump.core.inspect.VmcoreFile;
import io.guestdump.core.plugins.ArchitectureRegistry;
import io.guestdump.core.source.GuestSource;
import io.guestdump.core.source.LoadedGuest;
import io.guestdump.elf.Note;
import io.guestdump.memory.BlockData;
import io.guestdump.memory.FileRegion;
import io.guestdump.memory.GuestBlock;
import io.guestdump.memory.GuestMemory;
import java.io.IOException;
import java.math.BigInteger;
import java.net.ConnectException;
import java.net.SocketException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A live QEMU guest reached through its QMP socket ({@code qmp:/path/qmp.sock}). Opening it connects, checks that
 * the guest may be dumped (not migrating, not being dumped by QEMU or another guestdump), stops it if it runs, and
 * reads its state; closing the guest resumes it. Where each value comes from:
 *
 * <ul>
 *   <li>architecture: {@code query-target}; machine type: {@code qom-get /machine type};</li>
 *   <li>vCPU registers: HMP {@code info registers -a}, parsed by the plugin; registers the text lacks (e.g.
 *       {@code kernel_gs_base}) from QEMU's own CPU notes of a one-page {@code dump-guest-memory} (the probe),
 *       and those still missing that the plugin's {@code gdbstubRegisters} lists (or {@code gdbstub-registers})
 *       from QEMU's gdbstub, started over HMP on a private unix socket for the moment ({@link GdbStub});</li>
 *   <li>memory layout: HMP {@code info mtree -f}, the flat view of the {@code memory} address space
 *       ({@link FlatView});</li>
 *   <li>memory contents: the file of a shared {@code memory-backend-file} where readable, else the QEMU process's
 *       own memory where guestdump may read it ({@link ProcessMemory}), else {@code pmemsave} streamed through a
 *       FIFO ({@link PmemsaveMemory});</li>
 *   <li>VMCOREINFO: the note of the probe dump (QEMU reads it where {@code -device vmcoreinfo} says).</li>
 * </ul>
 */
public final class QmpSource implements GuestSource {
    private static final Logger LOG = LoggerFactory.getLogger(QmpSource.class);

    private final Path socket;
    private final QmpSettings settings;

    /** The guest behind {@code socket}. */
    public QmpSource(Path socket, QmpSettings settings) {
        this.socket = socket.toAbsolutePath().normalize();
        this.settings = settings;
    }

    @Override
    public String describe() {
        return "qmp:" + socket;
    }

    @Override
    public LoadedGuest open(ArchitectureRegistry registry) {
        return open(registry, Optional.empty());
    }

    @Override
    public LoadedGuest open(ArchitectureRegistry registry, Optional<Path> partial) {
        if (!Files.exists(socket, LinkOption.NOFOLLOW_LINKS) && !Files.exists(socket)) {
            throw new InvalidInputException("QMP socket " + socket + " does not exist; start QEMU with -qmp unix:"
                    + socket + ",server=on,wait=off or fix the path");
        }
        if (Files.isRegularFile(socket) || Files.isDirectory(socket)) {
            throw new InvalidInputException(socket + " is a " + (Files.isDirectory(socket) ? "directory" : "file")
                    + ", not a QMP socket; give the path of QEMU's -qmp unix:PATH socket");
        }
        QmpClient client;
        try {
            client = QmpClient.connect(socket, settings.greetingTimeout(), settings.commandTimeout(),
                    settings.maxMessage());
        } catch (QmpException.NotQmp e) {
            throw new InvalidInputException(e.getMessage(), e);
        } catch (ConnectException e) {
            throw new InvalidInputException("nothing listens on " + socket + " (" + e.getMessage() + "); is QEMU "
                    + "still running?", e);
        } catch (SocketException e) {
            throw new InvalidInputException("cannot connect to " + socket + ": " + e.getMessage(), e);
        } catch (IOException e) {
            throw new InvalidInputException("cannot connect to " + socket + ": " + e.getMessage(), e);
        }
        QmpSession session = new QmpSession(client, settings, partial);
        try {
            try {
                return load(session, registry);
            } catch (ClassCastException | NullPointerException | IndexOutOfBoundsException e) {
                throw new QmpException("UnexpectedReply", "QEMU at " + socket + " answered a command with a reply "
                        + "of an unexpected shape (" + e.getMessage() + "); is this QEMU 7.2 or later?");
            }
        } catch (RuntimeException e) {
            session.closeAfterFailure(e);
            throw e;
        } catch (IOException e) {
            QmpException wrapped = new QmpException("IOError", "reading the guest from " + socket + " failed: "
                    + e.getMessage());
            session.closeAfterFailure(wrapped);
            throw wrapped;
        }
    }

    private LoadedGuest load(QmpSession s, ArchitectureRegistry registry) throws IOException {
        String machine = s.string(s.command("query-target"), "arch");
        ArchitectureRegistry.Loaded plugin = registry.require(machine);
        s.lock(() -> settings.live().equals("never") ? "" : LiveSnapshot.record(s));
        checkDumpable(s);
        Object status = s.command("query-status");
        boolean running = status instanceof Map<?, ?> m && Boolean.TRUE.equals(m.get("running"));
        if (running && !settings.live().equals("never")) {
            LiveSnapshot live = new LiveSnapshot(s, settings);
            String why;
            try {
                live.check(plugin);
                return live(s, live.take(), registry, plugin);
            } catch (LiveSnapshot.Unavailable e) {
                why = e.getMessage();
            }
            if (settings.live().equals("always")) {
                throw new UnsupportedGuestException(describe() + ": no live dump possible (" + why + "), and "
                        + "--live=always forbids stopping the guest; the guest was not stopped. Use --live=auto to "
                        + "stop it for the dump instead");
            }
            LOG.warn("live dump not possible ({}); stopping the guest for the dump", why);
            s.capture("stopped for the dump (no live dump: " + why + ")");
        } else if (running) {
            s.capture("stopped for the dump (--live=never)");
        } else {
            s.capture("dumped " + (status instanceof Map<?, ?> m ? m.get("status") : "stopped")
                    + ", left as it was");
        }
        s.stopIfRunning();

        Map<String, String> properties = new LinkedHashMap<>();
        try {
            Object type = s.command("qom-get", Map.of("path", "/machine", "property", "type"));
            properties.put("machine-type", type.toString().replaceFirst("-machine$", ""));
        } catch (QmpException e) {
            LOG.debug("no machine type: {}", e.getMessage());
        }

        String regs = s.hmp("info registers -a");
        List<VcpuState> cpus = new ArrayList<>(plugin.arch().parseMonitorRegisters(regs,
                describe() + " (info registers -a)"));
        if (cpus.isEmpty()) {
            throw new UnsupportedGuestException(describe() + ": 'info registers -a' shows no vCPU");
        }

        List<FlatView.Block> layout = FlatView.blocks(FlatView.systemSections(s.hmp("info mtree -f"),
                describe() + " (info mtree -f)"));
        if (layout.isEmpty()) {
            throw new UnsupportedGuestException(describe() + ": the guest has no RAM in its system address space");
        }
        Map<String, FileChannel> backing = settings.readBackingFiles() ? backingFiles(s) : Map.of();
        PmemsaveMemory pmem = s.pmemsave();
        List<FlatView.Block> streamed = layout.stream().filter(b -> !backing.containsKey(b.region())).toList();
        Map<FlatView.Block, BlockData> process = new HashMap<>();
        if (settings.readProcessMemory() && !streamed.isEmpty()) {
            ProcessMemory.open(s, streamed, pmem).ifPresent(list -> {
                for (int i = 0; i < streamed.size(); i++) {
                    process.put(streamed.get(i), list.get(i));
                }
            });
        }
        List<GuestBlock> blocks = new ArrayList<>();
        for (FlatView.Block b : layout) {
            FileChannel file = backing.get(b.region());
            BlockData fromProcess = process.get(b);
            BlockData data = file != null
                    ? new FileRegion(file, b.offset(), b.range().length(), b.region())
                    : fromProcess != null ? fromProcess : pmem.data(b.range().start(), b.range().length(), b.region());
            blocks.add(new GuestBlock(b.range(), data, b.region() + (b.offset() == 0 ? "" : " @" + Long
                    .toHexString(b.offset())) + (file != null ? " (backing file)" : fromProcess != null
                    ? " (QEMU process memory)" : " (pmemsave)")));
        }
        GuestMemory memory = new GuestMemory(blocks);

        Optional<String> vmcoreinfo = Optional.empty();
        String origin = null;
        if (settings.vmcoreinfoProbe()) {
            Probe probe = probe(s, layout.get(0), plugin, new GuestState(machine, memory, cpus, properties,
                    Optional.empty()));
            if (probe.vmcoreinfo != null) {
                vmcoreinfo = Optional.of(probe.vmcoreinfo);
                origin = "QEMU's -device vmcoreinfo (read with a one-page dump-guest-memory)";
            }
            for (int i = 0; i < cpus.size() && i < probe.cpus.size(); i++) {
                Map<String, BigInteger> missing = new LinkedHashMap<>();
                for (Map.Entry<String, BigInteger> e : probe.cpus.get(i).registers().entrySet()) {
                    if (!cpus.get(i).has(e.getKey())) {
                        missing.put(e.getKey(), e.getValue());
                    }
                }
                cpus.set(i, cpus.get(i).with(missing));
            }
        }
        Map<String, String> viaGdb = settings.gdbstubRegisters().getOrDefault(machine,
                plugin.arch().gdbstubRegisters(machine));
        if (!viaGdb.isEmpty()) {
            gdbstubRegisters(s, viaGdb, cpus);
        }
        GuestState state = new GuestState(machine, memory, cpus, properties, vmcoreinfo);
        return new LoadedGuest(state, plugin, List.of(), origin, List.of(s));
    }

    /** The guest of a live snapshot: everything from the stream, the same instant for memory and registers. */
    private LoadedGuest live(QmpSession s, LiveSnapshot.Taken taken, ArchitectureRegistry registry,
            ArchitectureRegistry.Loaded plugin) throws IOException {
        FileChannel spool = FileChannel.open(taken.spool(), StandardOpenOption.READ);
        s.closeLater(spool);
        LoadedGuest guest = io.guestdump.core.source.SaveStateSource.readStream(taken.spool(), spool, 0,
                spool.size(), List.of(plugin), List.of(s));
        String downtime = taken.downtimeMicros() < 0 ? "unknown (no STOP/RESUME events seen)"
                : String.format(java.util.Locale.ROOT, "%.3f ms", taken.downtimeMicros() / 1000.0);
        s.capture("live (background snapshot), guest downtime " + downtime + " (QMP STOP to RESUME"
                + (taken.qemuDowntimeMs() >= 0 ? "; QEMU says " + taken.qemuDowntimeMs() + " ms" : "") + "), snapshot "
                + String.format(java.util.Locale.ROOT, "%.2f s, %d MiB streamed", taken.nanos() / 1e9,
                        taken.bytes() >> 20));
        LOG.info("live snapshot: {} bytes in {} ms, downtime {}", taken.bytes(), taken.nanos() / 1_000_000, downtime);
        return guest;
    }

    @SuppressWarnings("unchecked")
    private void checkDumpable(QmpSession s) throws IOException {
        String status = s.string(s.command("query-status"), "status");
        if (status.equals("inmigrate")) {
            throw new UnsupportedGuestException(describe() + ": the guest is migrating in (status inmigrate); "
                    + "dump it after the incoming migration has finished");
        }
        Map<String, Object> dump = (Map<String, Object>) s.command("query-dump");
        if ("active".equals(dump.get("status"))) {
            throw new UnsupportedGuestException(describe() + ": QEMU is dumping this guest already "
                    + "(query-dump: active, " + dump.get("completed") + " of " + dump.get("total") + " bytes); "
                    + "wait for that dump to finish");
        }
        try {
            Map<String, Object> mig = (Map<String, Object>) s.command("query-migrate");
            Object ms = mig.get("status");
            if (ms != null && List.of("setup", "active", "pre-switchover", "device", "postcopy-active",
                    "postcopy-paused", "postcopy-recover", "wait-unplug").contains(ms.toString())) {
                throw new UnsupportedGuestException(describe() + ": the guest is migrating out (query-migrate: "
                        + ms + "); dump it after the migration has finished or been cancelled");
            }
        } catch (QmpException e) {
            LOG.debug("query-migrate: {}", e.getMessage());
        }
    }

    @SuppressWarnings("unchecked")
    private Map<String, FileChannel> backingFiles(QmpSession s) throws IOException {
        Map<String, FileChannel> files = new HashMap<>();
        for (Object o : (List<Object>) s.command("query-memdev")) {
            Map<String, Object> dev = (Map<String, Object>) o;
            Object id = dev.get("id");
            if (id == null || !Boolean.TRUE.equals(dev.get("share"))) {
                continue; // private mappings: the file does not hold the guest's writes
            }
            Object path;
            try {
                path = s.command("qom-get", Map.of("path", "/objects/" + id, "property", "mem-path"));
            } catch (QmpException e) {
                continue; // not a memory-backend-file
            }
            Path p = Path.of(path.toString());
            long size = ((Number) dev.get("size")).longValue();
            if (!Files.isRegularFile(p) || !Files.isReadable(p)) {
                continue;
            }
            FileChannel ch = FileChannel.open(p, StandardOpenOption.READ);
            if (ch.size() < size) {
                ch.close();
                continue;
            }
            s.closeLater(ch);
            files.put(id.toString(), ch);
            LOG.debug("reading {} from {}", id, p);
        }
        return files;
    }

    /** What the one-page QEMU dump tells: the VMCOREINFO text and QEMU's view of the vCPUs. */
    private record Probe(String vmcoreinfo, List<VcpuState> cpus) {}

    private Probe probe(QmpSession s, FlatView.Block first, ArchitectureRegistry.Loaded plugin, GuestState state)
            throws IOException {
        Path file = s.workDir().resolve("probe.elf");
        try {
            s.command("dump-guest-memory", Map.of("paging", false, "protocol", "file:" + file,
                    "begin", first.range().start(), "length", Math.min(4096, first.range().length())));
        } catch (QmpException e) {
            LOG.warn("{}: no VMCOREINFO and no kernel_gs_base-like registers: QEMU's dump-guest-memory into {} "
                    + "failed: {}", describe(), file, e.getMessage());
            return new Probe(null, List.of());
        }
        try (VmcoreFile f = VmcoreFile.open(file)) {
            String text = null;
            List<Note> cpuNotes = new ArrayList<>();
            for (Note n : f.notes()) {
                if (n.owner().equals("VMCOREINFO")) {
                    text = new String(n.desc(), StandardCharsets.UTF_8);
                } else {
                    cpuNotes.add(n);
                }
            }
            // QEMU's notes are in QEMU's byte order and class, which need not be ours (QEMU 7.2 may write a big-endian
            // file for a little-endian guest): decode them as the probe file says, like any elf: source
            DumpTarget ours = plugin.arch().describe(state);
            DumpTarget target = new DumpTarget(f.header().machine(), f.header().elfClass(), f.header().data(),
                    ours.pageSize());
            List<VcpuState> cpus = plugin.arch().decodeNotes(cpuNotes, target);
            return new Probe(text, cpus);
        } finally {
            Files.deleteIfExists(file);
        }
    }

    /**
     * Fills the registers {@code wanted} (gdbstub name to plugin name) that the vCPUs lack from QEMU's gdbstub,
     * started over HMP on a socket in the private directory for the moment and stopped after. Best effort: any
     * problem is logged and the registers stay absent.
     */
    @SuppressWarnings("unchecked")
    private void gdbstubRegisters(QmpSession s, Map<String, String> wanted, List<VcpuState> cpus) throws IOException {
        Map<String, String> missing = new LinkedHashMap<>();
        wanted.forEach((gdbName, ours) -> {
            if (cpus.stream().anyMatch(c -> !c.has(ours))) {
                missing.put(gdbName, ours);
            }
        });
        if (missing.isEmpty()) {
            return;
        }
        try {
            for (Object o : (List<Object>) s.command("query-chardev")) {
                if (o instanceof Map<?, ?> m && "gdb".equals(m.get("label"))) {
                    LOG.warn("{}: a gdbserver is active (chardev 'gdb'); not reading {} from it (starting guestdump's "
                            + "own would disconnect its debugger)", describe(), missing.values());
                    return;
                }
            }
        } catch (QmpException e) {
            LOG.warn("{}: query-chardev failed ({}); not reading {} from the gdbstub", describe(), e.getMessage(),
                    missing.values());
            return;
        }
        Path socket = s.workDir().resolve("gdb.sock");
        String started = s.hmp("gdbserver unix:" + socket + ",server=on,wait=off");
        if (!started.contains("Waiting for gdb connection")) {
            LOG.warn("{}: could not start QEMU's gdbstub for {}: {}", describe(), missing.values(), started.trim());
            return;
        }
        long t0 = System.nanoTime();
        try (GdbStub stub = GdbStub.connect(socket, settings.commandTimeout())) {
            Map<String, GdbStub.Register> described = stub.registers();
            Map<GdbStub.Register, String> read = new LinkedHashMap<>();
            missing.forEach((gdbName, ours) -> {
                GdbStub.Register r = described.get(gdbName);
                if (r == null) {
                    LOG.warn("{}: QEMU's gdbstub has no register {} (for {})", describe(), gdbName, ours);
                } else {
                    read.put(r, ours);
                }
            });
            for (String thread : stub.threads()) {
                int index = GdbStub.cpuIndex(thread);
                for (int i = 0; i < cpus.size(); i++) {
                    VcpuState cpu = cpus.get(i);
                    if (cpu.index() != index) {
                        continue;
                    }
                    stub.select(thread);
                    Map<String, BigInteger> values = new LinkedHashMap<>();
                    for (Map.Entry<GdbStub.Register, String> e : read.entrySet()) {
                        BigInteger v = cpu.has(e.getValue()) ? null : stub.read(e.getKey());
                        if (v != null) {
                            values.put(e.getValue(), v);
                        }
                    }
                    cpus.set(i, cpu.with(values));
                }
            }
            LOG.debug("read {} from QEMU's gdbstub in {} ms", read.values(), (System.nanoTime() - t0) / 1_000_000);
        } catch (IOException | RuntimeException e) {
            LOG.warn("{}: reading {} from QEMU's gdbstub failed: {}", describe(), missing.values(), e.getMessage());
        } finally {
            s.hmp("gdbserver none");
        }
    }

    /** Makes the private work directory (0700) under {@code parent}. */
    static Path privateDir(Path parent) throws IOException {
        return Files.createTempDirectory(parent, "guestdump-qmp-",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    }
}
