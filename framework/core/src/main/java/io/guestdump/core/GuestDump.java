package io.guestdump.core;

import io.guestdump.arch.api.ArchitectureSupport;
import io.guestdump.arch.api.CpuNote;
import io.guestdump.arch.api.DumpTarget;
import io.guestdump.arch.api.GuestState;
import io.guestdump.arch.api.GuestVmcoreinfo;
import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.arch.api.SampleGuest;
import io.guestdump.arch.api.PageTableWalker;
import io.guestdump.arch.api.UnsupportedGuestException;
import io.guestdump.arch.api.VmcoreWriteException;
import io.guestdump.core.config.DumpSettings;
import io.guestdump.core.kdump.KdumpFormat;
import io.guestdump.core.kernel.KernelAddressSpace;
import io.guestdump.core.kernel.KernelMap;
import io.guestdump.core.kernel.Utsname;
import io.guestdump.core.kdump.KdumpSettings;
import io.guestdump.core.kernel.DumpLevel;
import io.guestdump.core.kernel.DumpLevels;
import io.guestdump.core.kernel.LevelFilter;
import io.guestdump.core.kernel.LevelReport;
import io.guestdump.core.notes.NoteSegmentBuilder;
import io.guestdump.core.paging.MappingTable;
import io.guestdump.core.paging.PagingNote;
import io.guestdump.core.paging.PagingPlanner;
import io.guestdump.core.plugins.ArchitectureRegistry;
import io.guestdump.core.source.GuestSource;
import io.guestdump.core.source.LoadedGuest;
import io.guestdump.core.source.SnapshotSource;
import io.guestdump.core.source.SourceSpec;
import io.guestdump.arch.api.VmcoreinfoScanner;
import io.guestdump.core.vmcore.DumpFormat;
import io.guestdump.core.vmcore.ElfFormat;
import io.guestdump.core.vmcore.MappingPlanner;
import io.guestdump.core.vmcore.OutputTarget;
import io.guestdump.core.vmcore.ProgressListener;
import io.guestdump.elf.Note;
import io.guestdump.elf.NoteEncoder;
import io.guestdump.memory.GuestBlock;
import io.guestdump.memory.MemoryMapping;
import io.guestdump.memory.PhysRange;
import io.guestdump.core.inspect.VmcoreFile;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The library entry point: a {@link DumpRequest} in, a vmcore out. A dump is prepared completely (guest, target,
 * notes, memory, mappings) and checked by its format before the output file is created.
 */
public final class GuestDump {
    private static final Logger LOG = LoggerFactory.getLogger(GuestDump.class);

    /** The longest VMCOREINFO text written: the kernel's own fits one page (VMCOREINFO_BYTES). */
    public static final long MAX_VMCOREINFO_BYTES = 1L << 20;

    /** The source naming the bundled sample guest. */
    public static final String SAMPLE = "sample:";

    private final DumpSettings settings;
    private final ArchitectureRegistry registry;
    private final Map<String, DumpFormat> formats = new LinkedHashMap<>();
    private final boolean kernelAddresses;

    /** Uses an already loaded registry (the caller closes it). */
    public GuestDump(DumpSettings settings, ArchitectureRegistry registry) {
        this.settings = settings;
        this.registry = registry;
        this.kernelAddresses = settings.config().getBoolean("guestdump.elf.kernel-addresses");
        register(ElfFormat.from(settings.config()));
        KdumpFormat.all(KdumpSettings.from(settings.config())).forEach(this::register);
    }

    private void register(DumpFormat format) {
        formats.put(format.name(), format);
    }

    /** The loaded plugins. */
    public ArchitectureRegistry registry() {
        return registry;
    }

    /** The names {@code --format} accepts. */
    public List<String> formatNames() {
        return List.copyOf(formats.keySet());
    }

    /** Dumps the requested guest. Validation happens before the output file is created. */
    public DumpResult dump(DumpRequest request, ProgressListener progress) {
        long t0 = System.nanoTime();
        DumpFormat format = formats.get(request.format());
        if (format == null) {
            throw new InvalidInputException("--format " + request.format() + " is not one of " + formatNames());
        }
        checkForm(format, request);
        Optional<PhysRange> window = DumpFilter.window(request.begin(), request.length());
        GuestSource source = source(request.source().orElseThrow(() -> new InvalidInputException("no source given; "
                + "name the guest: qmp:SOCKET, snapshot:FILE, elf:FILE, or sample: for the bundled sample guest")));
        // the output is checked (and its temporary file made) before the guest is touched: a bad -o never stops,
        // probes or locks a live guest
        try (OutputTarget out = OutputTarget.open(request.output(), request.overwrite() || settings.overwrite(),
                settings.fsync())) {
            return write(request, format, window, source, source.open(registry, out.temporaryPath()), out.channel(),
                    out.seekable(), out::reserve, out::commit, out.path(), describe(out), progress, t0);
        }
    }

    /** Commits a written vmcore (an {@link OutputTarget}'s rename into place, or nothing for a caller's channel). */
    private interface Commit {
        void run() throws IOException;
    }

    /**
     * The steps every output shares once the guest is open: prepare, check, write, commit, close the guest. The guest
     * is closed (resumed, unlocked) on every path; a guest left paused after a written dump says where the dump is.
     */
    private DumpResult write(DumpRequest request, DumpFormat format, Optional<PhysRange> window, GuestSource source,
            LoadedGuest guest, java.nio.channels.WritableByteChannel channel, boolean seekable,
            java.util.function.LongConsumer reserve, Commit commit, java.nio.file.Path path, String where,
            ProgressListener progress, long t0) {
        DumpResult result;
        try {
            checkClaimedMemory(source, guest);
            Optional<DumpLevel> level = request.dumpLevel().map(DumpLevel::new);
            PreparedDump prepared = prepare(guest, window, request.paging(), level,
                    level.isPresent() && format instanceof ElfFormat, progress);
            format.check(prepared);
            if (format instanceof ElfFormat && seekable && !request.flattened()) {
                // a file larger than the file system holds is refused before the first byte (exit 2)
                reserve.accept(ElfFormat.plan(prepared).fileSize());
            }
            LOG.debug("{}: {} vCPUs, {} notes, {} mappings", source.describe(), guest.state().cpus().size(),
                    prepared.notes().size(), prepared.mappings().size());
            long size;
            progress.phase("writing");
            try {
                size = format.write(prepared, channel, seekable && !request.flattened(), progress);
                guest.checkConsistent();
                commit.run();
            } catch (IOException e) {
                throw new VmcoreWriteException("dump: failed to write " + where, e);
            }
            GuestState state = prepared.state();
            result = new DumpResult(path, source.describe(), state.machine(), prepared.target(), state.cpus().size(),
                    prepared.notes().size(), prepared.mappings().size(), prepared.memoryBytes(), size,
                    prepared.vmcoreinfo() == null ? null : prepared.vmcoreinfoOrigin(), System.nanoTime() - t0,
                    guest.capture());
        } catch (RuntimeException e) {
            try {
                guest.close();
            } catch (RuntimeException c) {
                e.addSuppressed(c);
            }
            throw e;
        }
        try {
            guest.close();
        } catch (GuestLeftPausedException e) {
            throw new GuestLeftPausedException("the dump was written to " + where + " (" + result.fileSize()
                    + " bytes), but " + e.getMessage(), result);
        }
        return result;
    }

    /** Refuses a source that claims more guest memory than {@code guestdump.source.max-guest-memory}. */
    private void checkClaimedMemory(GuestSource source, LoadedGuest guest) {
        long limit = settings.config().getBytes("guestdump.source.max-guest-memory");
        java.math.BigInteger total = java.math.BigInteger.ZERO;
        for (GuestBlock b : guest.state().memory().blocks()) {
            total = total.add(new java.math.BigInteger(Long.toUnsignedString(b.range().length())));
        }
        if (total.compareTo(java.math.BigInteger.valueOf(limit)) > 0) {
            throw new InvalidInputException(source.describe() + " claims " + total + " bytes (0x" + total.toString(16)
                    + ") of guest memory, more than guestdump.source.max-guest-memory = " + limit + " bytes; if "
                    + "the guest really is that large, raise the limit (-D guestdump.source.max-guest-memory=...)");
        }
    }

    /**
     * {@code sample:} is the bundled sample guest ({@code guestdump.sample-source}, else the snapshot of the sample
     * {@link #sampleGuest()} chooses, in {@code guestdump.sample-dir}); anything else a source spec.
     */
    private GuestSource source(String spec) {
        if (spec.equals(SAMPLE)) {
            return new SnapshotSource(settings.sampleSource() != null ? settings.sampleSource()
                    : settings.sampleDir().resolve(sampleGuest().name() + ".conf"));
        }
        return SourceSpec.parse(spec, settings.config());
    }

    /** The sample guest of the loaded plugins that {@code guestdump.sample-arch} chooses. */
    public SampleGuest sampleGuest() {
        return registry.sampleGuest(settings.sampleArch());
    }

    /**
     * {@code --dry-run}: the page classes of the requested guest and what each dump level would keep; opens the
     * source, reads its memory, writes nothing.
     */
    public LevelReport dryRun(DumpRequest request) {
        DumpLevel level = new DumpLevel(request.dumpLevel().orElseThrow(() -> new InvalidInputException(
                "--dry-run reports what a --dump-level would keep; give --dump-level N")));
        Optional<PhysRange> window = DumpFilter.window(request.begin(), request.length());
        GuestSource source = source(request.source().orElseThrow(() -> new InvalidInputException("no source given; "
                + "name the guest: qmp:SOCKET, snapshot:FILE, elf:FILE, or sample: for the bundled sample guest")));
        try (LoadedGuest guest = source.open(registry)) {
            checkClaimedMemory(source, guest);
            PreparedDump base = prepare(guest, window, request.paging());
            // the ELF this level writes, planned exactly as a dump plans it (blocks and mappings cut alike)
            long elfBytes = ElfFormat.plan(prepare(guest, window, request.paging(), Optional.of(level), true))
                    .fileSize();
            return DumpLevels.report(base.state(), guest.arch().arch(), base.target(), level, window,
                    f -> elfBytes);
        }
    }

    /** Decides everything about a dump of an opened guest (every page); writes nothing. */
    public PreparedDump prepare(LoadedGuest guest, Optional<PhysRange> window, boolean paging) {
        return prepare(guest, window, paging, Optional.empty(), false, ProgressListener.NONE);
    }

    /**
     * Decides everything about a dump of an opened guest; writes nothing.
     *
     * @param level     the dump level, if any
     * @param zeroPages whether the level's zero pages are found now (ELF must know them before planning; the kdump
     *                  writer finds them as it goes)
     */
    public PreparedDump prepare(LoadedGuest guest, Optional<PhysRange> window, boolean paging,
            Optional<DumpLevel> level, boolean zeroPages) {
        return prepare(guest, window, paging, level, zeroPages, ProgressListener.NONE);
    }

    /**
     * Decides everything about a dump of an opened guest; writes nothing; long phases (the VMCOREINFO search)
     * report to {@code progress}.
     */
    public PreparedDump prepare(LoadedGuest guest, Optional<PhysRange> window, boolean paging,
            Optional<DumpLevel> level, boolean zeroPages, ProgressListener progress) {
        GuestState state = guest.state();
        String vmcoreinfoOrigin = guest.vmcoreinfoOrigin();
        Optional<VmcoreinfoScanner.Found> found = scanForVmcoreinfo(state, progress);
        if (found.isPresent()) {
            state = new GuestState(state.machine(), state.memory(), state.cpus(), state.properties(),
                    Optional.of(found.get().text()));
            vmcoreinfoOrigin = found.get().origin();
        }
        ArchitectureSupport arch = guest.arch().arch();
        DumpTarget target = arch.describe(state);
        List<CpuNote> table = arch.cpuNotes(state, target);
        String vmcoreinfo = settings.writeVmcoreinfo() ? state.vmcoreinfo().orElse(null) : null;
        List<GuestBlock> blocks = DumpFilter.apply(state.memory().blocks(), window);
        Optional<GuestVmcoreinfo> parsed = state.vmcoreinfo().map(GuestVmcoreinfo::parse);
        Optional<KernelAddressSpace> space = parsed.isPresent() ? kernelSpace(arch, state) : Optional.empty();
        Optional<KernelMap> kernelMap = space.flatMap(k -> KernelMap.derive(k, parsed.get()));
        Utsname utsname = Utsname.complete(space.flatMap(k -> Utsname.read(k, parsed.get())), parsed,
                arch.utsMachine(target));
        List<MemoryMapping> mappings;
        // a GUESTDUMP note of an input vmcore described that dump's walk, not this one
        List<Note> extraNotes = new ArrayList<>(guest.carriedNotes().stream().filter(n -> !PagingNote.is(n)).toList());
        if (paging) {
            String machine = state.machine();
            PageTableWalker walker = arch.pageTableWalker().orElseThrow(() -> new UnsupportedGuestException(
                    "--paging: the " + guest.arch().pluginId() + " plugin has no page-table walker for "
                            + machine + " guests; dump without --paging"));
            PagingPlanner.Plan plan = PagingPlanner.plan(walker, state, window, progress);
            report(plan);
            mappings = plan.mappings();
            if (kernelMap.isPresent() && plan.walked()) {
                mappings = MappingTable.of(kernelMap.get().orderForReaders(mappings));
            }
            extraNotes.add(PagingNote.of(plan));
        } else if (kernelAddresses && kernelMap.isPresent()) {
            mappings = kernelMap.get().loads(blocks, space.get());
        } else {
            mappings = MappingPlanner.simple(blocks);
        }
        checkNoteSize(table, state.cpus().size(), vmcoreinfo, extraNotes);
        List<Note> notes = NoteSegmentBuilder.build(table, state.cpus(), target, vmcoreinfo, extraNotes);
        byte[] noteBytes = NoteEncoder.encode(notes, target.data());
        LevelFilter levelFilter = null;
        if (level.isPresent()) {
            levelFilter = DumpLevels.filter(state, arch, target, level.get(), window,
                    zeroPages && level.get().has(DumpLevel.DL_EXCLUDE_ZERO), progress);
            long endPfn = levelFilter.scan().endPfn();
            if (endPfn >= 0) {
                // as makedumpfile: nothing above the kernel's struct page arrays (a framebuffer, a ROM)
                long end = endPfn << levelFilter.classes().pageShift();
                List<GuestBlock> below = DumpFilter.apply(blocks, Optional.of(new PhysRange(0, end)));
                if (!paging) {
                    mappings = kernelAddresses && kernelMap.isPresent() ? kernelMap.get().loads(below, space.get())
                            : MappingPlanner.simple(below);
                }
                blocks = below;
            }
        }
        return new PreparedDump(guest, state, target, notes, noteBytes, blocks, mappings, vmcoreinfo,
                vmcoreinfoOrigin, levelFilter, utsname);
    }

    /**
     * The guest kernel's address space from one walk of its page tables, for reading its data (utsname) and for
     * the kernel's own PT_LOAD addresses; empty when the plugin has no walker, no vCPU has paging on, or the walk
     * fails (the dump then goes on without what the walk would have given).
     */
    private static Optional<KernelAddressSpace> kernelSpace(ArchitectureSupport arch, GuestState state) {
        Optional<PageTableWalker> walker = arch.pageTableWalker();
        if (walker.isEmpty()) {
            return Optional.empty();
        }
        try {
            return Optional.of(KernelAddressSpace.walk(walker.get(), state));
        } catch (IOException | RuntimeException e) {
            LOG.debug("{}: kernel address space not read ({}); kernel addresses and utsname from VMCOREINFO only",
                    state.machine(), e.getMessage());
            return Optional.empty();
        }
    }


    /**
     * Refuses, before anything is written, notes that vmcore readers (and {@code guestdump info}) would reject: more
     * than {@link VmcoreFile#MAX_NOTE_BYTES} in all, or a VMCOREINFO text above {@link #MAX_VMCOREINFO_BYTES} (the
     * kernel's own is at most one page).
     */
    static void checkNoteSize(List<CpuNote> table, int cpus, String vmcoreinfo, List<Note> carried) {
        long vmcoreinfoBytes = vmcoreinfo == null ? 0 : vmcoreinfo.getBytes(StandardCharsets.UTF_8).length;
        if (vmcoreinfoBytes > MAX_VMCOREINFO_BYTES) {
            throw new InvalidInputException("the VMCOREINFO text has " + vmcoreinfoBytes + " bytes, more than the "
                    + MAX_VMCOREINFO_BYTES + " a guest kernel's can have (its buffer is one page); check the "
                    + "source's VMCOREINFO (a snapshot's vmcoreinfo-from)");
        }
        long bytes = NoteSegmentBuilder.encodedSize(table, cpus, vmcoreinfo, carried);
        if (bytes > VmcoreFile.MAX_NOTE_BYTES) {
            throw new InvalidInputException("the notes of " + cpus + " vCPUs would take " + bytes + " bytes, more than "
                    + "the " + VmcoreFile.MAX_NOTE_BYTES + " bytes a vmcore's readers accept; check the source's vCPU "
                    + "list");
        }
    }

    /**
     * The guest kernel's VMCOREINFO found in its memory, when the source has none and the search is on. This is the
     * only search of a dump: what it finds goes into the state every consumer sees (the note, the kdump header,
     * the plugin's walker), and plugins never search themselves.
     */
    private Optional<VmcoreinfoScanner.Found> scanForVmcoreinfo(GuestState state, ProgressListener progress) {
        if (state.vmcoreinfo().isPresent() || !settings.vmcoreinfoScan()) {
            return Optional.empty();
        }
        if (state.memory().blocks().stream().anyMatch(b -> b.data().streamedOnly())) {
            LOG.info("VMCOREINFO not searched for: the guest's memory is streamed from the hypervisor and would be "
                    + "read twice; give the guest -device vmcoreinfo, or dump it to a file and re-dump that");
            return Optional.empty();
        }
        try {
            long total = state.memory().blocks().stream().mapToLong(b -> b.range().length()).sum();
            progress.phase("searching for VMCOREINFO");
            Optional<VmcoreinfoScanner.Found> found = VmcoreinfoScanner.find(state.memory(),
                    done -> progress.progress(done, total));
            found.ifPresent(f -> LOG.debug("{}: VMCOREINFO {}", state.machine(), f.origin()));
            return found;
        } catch (IOException e) {
            throw new InvalidInputException("cannot read guest memory while looking for VMCOREINFO: "
                    + e.getMessage() + "; set guestdump.notes.vmcoreinfo-scan = false to skip the search", e);
        }
    }

    /** --flattened only where the format has that form; a pipe only gets a streamable form. */
    private static void checkForm(DumpFormat format, DumpRequest request) {
        if (request.flattened() && !format.hasFlattenedForm()) {
            throw new InvalidInputException("--flattened applies to the kdump formats only, not --format "
                    + format.name() + "; drop --flattened");
        }
        if (format.hasFlattenedForm() && !request.flattened() && OutputTarget.streams(request.output())) {
            String where = request.output().equals("-") ? "standard output" : request.output() + " (a FIFO or device)";
            throw new InvalidInputException("--format " + format.name() + " to " + where + " needs --flattened: the "
                    + "seekable form cannot be written to a pipe (makedumpfile -R turns a flattened file back into a "
                    + "seekable one); add --flattened, or give a file with -o");
        }
    }

    private static void report(PagingPlanner.Plan plan) {
        if (!plan.walked()) {
            LOG.info("--paging: no vCPU has paging enabled; one identity mapping per memory block, as QEMU does");
            return;
        }
        LOG.debug("--paging: walked from vCPU {}: {} mappings, {} device-memory leaves left out", plan.firstCpu(),
                plan.mappings().size(), plan.deviceLeaves());
        if (plan.skipped() > 0) {
            LOG.warn("page-table walk: {} entries skipped (the dump goes on without what they map); first: {}",
                    plan.skipped(), String.join("; ", plan.skipReasons()));
        }
        if (plan.leafRejects() > 0) {
            LOG.warn("page-table walk: {} leaves reaching the top of the address space left out (an ELF segment "
                    + "cannot end at 2^64)", plan.leafRejects());
        }
    }

    /**
     * Dumps the requested guest to a channel the caller owns and leaves open ({@link GuestDumper}'s channel
     * output); {@code request.output()} is ignored.
     *
     * @param seekable whether {@code out} is an empty {@code FileChannel} at position 0 that the writers may fill
     *                 out of order and leave holes in (the seekable kdump form, sparse ELF)
     */
    public DumpResult dumpTo(DumpRequest request, java.nio.channels.WritableByteChannel out, boolean seekable,
            ProgressListener progress) {
        long t0 = System.nanoTime();
        DumpFormat format = formats.get(request.format());
        if (format == null) {
            throw new InvalidInputException("format " + request.format() + " is not one of " + formatNames());
        }
        if (request.flattened() && !format.hasFlattenedForm()) {
            throw new InvalidInputException("flattened applies to the kdump formats only, not " + format.name());
        }
        if (format.hasFlattenedForm() && !seekable && !request.flattened()) {
            throw new InvalidInputException("format " + format.name() + " to a channel that is not an empty "
                    + "FileChannel at position 0 needs the flattened form: ask for it, or give a new file");
        }
        Optional<PhysRange> window = DumpFilter.window(request.begin(), request.length());
        GuestSource source = source(request.source().orElseThrow(() -> new InvalidInputException("no source given; "
                + "name the guest: qmp:SOCKET, snapshot:FILE, elf:FILE, or sample: for the bundled sample guest")));
        return write(request, format, window, source, source.open(registry), out, seekable, size -> { },
                () -> { }, null, "to " + out, progress, t0);
    }

    private static String describe(OutputTarget out) {
        return out.path() == null ? "standard output" : out.path().toString();
    }
}
