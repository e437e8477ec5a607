package io.guestdump.core;

import io.guestdump.arch.api.ArchitectureSupport;
import io.guestdump.arch.api.CpuNote;
import io.guestdump.arch.api.DumpTarget;
import io.guestdump.arch.api.GuestState;
import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.arch.api.VmcoreWriteException;
import io.guestdump.core.config.DumpSettings;
import io.guestdump.core.notes.NoteSegmentBuilder;
import io.guestdump.core.plugins.ArchitectureRegistry;
import io.guestdump.core.source.GuestSource;
import io.guestdump.core.source.LoadedGuest;
import io.guestdump.core.source.SnapshotSource;
import io.guestdump.core.source.SourceSpec;
import io.guestdump.core.source.VmcoreinfoScanner;
import io.guestdump.core.vmcore.OutputTarget;
import io.guestdump.core.vmcore.ProgressListener;
import io.guestdump.core.vmcore.VmcoreLayout;
import io.guestdump.core.vmcore.VmcoreWriter;
import io.guestdump.elf.Note;
import io.guestdump.elf.NoteEncoder;
import io.guestdump.memory.GuestBlock;
import io.guestdump.memory.MemoryMapping;
import io.guestdump.memory.PhysRange;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The library entry point: a {@link DumpRequest} in, a vmcore out. */
public final class GuestDump implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(GuestDump.class);

    private final DumpSettings settings;
    private final ArchitectureRegistry registry;

    /** Uses an already loaded registry (the caller closes it). */
    public GuestDump(DumpSettings settings, ArchitectureRegistry registry) {
        this.settings = settings;
        this.registry = registry;
    }

    /** The loaded plugins. */
    public ArchitectureRegistry registry() {
        return registry;
    }

    /** Dumps the requested guest. Validation happens before the output file is created. */
    public DumpResult dump(DumpRequest request, ProgressListener progress) {
        long t0 = System.nanoTime();
        Optional<PhysRange> window = DumpFilter.window(request.begin(), request.length());
        GuestSource source = request.source().map(SourceSpec::parse)
                .orElseGet(() -> new SnapshotSource(settings.defaultSource()));
        try (LoadedGuest guest = source.open(registry)) {
            GuestState state = guest.state();
            String vmcoreinfoOrigin = guest.vmcoreinfoOrigin();
            Optional<VmcoreinfoScanner.Found> found = scanForVmcoreinfo(state, source);
            if (found.isPresent()) {
                state = new GuestState(state.machine(), state.memory(), state.cpus(), state.properties(),
                        Optional.of(found.get().text()));
                vmcoreinfoOrigin = found.get().origin();
            }
            ArchitectureSupport arch = guest.arch().arch();
            DumpTarget target = arch.describe(state);
            List<CpuNote> table = arch.cpuNotes(state, target);
            String vmcoreinfo = settings.writeVmcoreinfo() ? state.vmcoreinfo().orElse(null) : null;
            List<Note> notes = NoteSegmentBuilder.build(table, state.cpus(), target, vmcoreinfo,
                    guest.carriedNotes());
            byte[] noteBytes = NoteEncoder.encode(notes, target.data());

            List<GuestBlock> blocks = DumpFilter.apply(state.memory().blocks(), window);
            List<MemoryMapping> mappings = new ArrayList<>(blocks.size());
            for (GuestBlock b : blocks) {
                mappings.add(new MemoryMapping(b.range().start(), b.range().start(), b.range().length()));
            }
            VmcoreLayout layout = VmcoreLayout.plan(target, noteBytes.length, mappings, blocks);
            LOG.debug("{}: {} vCPUs, {} notes, {} loads, {} bytes", source.describe(), state.cpus().size(),
                    notes.size(), mappings.size(), layout.fileSize());

            try (OutputTarget out = OutputTarget.open(request.output(),
                    request.overwrite() || settings.overwrite(), settings.fsync())) {
                try {
                    VmcoreWriter.write(layout, noteBytes, out.channel(), progress);
                    out.commit();
                } catch (IOException e) {
                    throw new VmcoreWriteException("dump: failed to write " + describe(out), e);
                }
                long memory = blocks.stream().mapToLong(b -> b.range().length()).sum();
                return new DumpResult(out.path(), source.describe(), state.machine(), target, state.cpus().size(),
                        notes.size(), mappings.size(), memory, layout.fileSize(),
                        vmcoreinfo == null ? null : vmcoreinfoOrigin, System.nanoTime() - t0);
            }
        }
    }

    /**
     * The guest's VMCOREINFO note found in its memory, when the source carries none and the settings ask for it
     * ({@code guestdump.notes.vmcoreinfo-scan}).
     */
    private Optional<VmcoreinfoScanner.Found> scanForVmcoreinfo(GuestState state, GuestSource source) {
        if (state.vmcoreinfo().isPresent() || !settings.writeVmcoreinfo() || !settings.vmcoreinfoScan()) {
            return Optional.empty();
        }
        try {
            Optional<VmcoreinfoScanner.Found> found = VmcoreinfoScanner.find(state.memory());
            found.ifPresent(f -> LOG.debug("{}: VMCOREINFO {}", source.describe(), f.origin()));
            return found;
        } catch (IOException e) {
            throw new InvalidInputException(source.describe() + ": cannot read guest memory while looking for "
                    + "VMCOREINFO: " + e.getMessage() + "; set guestdump.notes.vmcoreinfo-scan = false to skip "
                    + "the search", e);
        }
    }

    private static String describe(OutputTarget out) {
        return out.path() == null ? "standard output" : out.path().toString();
    }

    @Override
    public void close() {
        registry.close();
    }
}
