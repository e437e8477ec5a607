package io.guestdump.core.kdump;

import io.guestdump.arch.api.ArchitectureSupport;
import io.guestdump.arch.api.GuestVmcoreinfo;
import io.guestdump.core.PreparedDump;
import io.guestdump.core.kernel.Utsname;
import io.guestdump.core.kernel.LevelFilter;
import io.guestdump.core.vmcore.DumpFormat;
import io.guestdump.core.vmcore.ProgressListener;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * A kdump-compressed vmcore with one codec: {@code kdump-zlib}, {@code kdump-lzo}, {@code kdump-snappy} or
 * {@code kdump-zstd}. Seekable into a file; flattened (makedumpfile's streamable form) when asked for, which is
 * the only form a pipe can take. Filters and paging apply as for ELF: the kdump file holds the physical pages of
 * the dumped blocks (page tables do not change which physical pages exist).
 */
public final class KdumpFormat implements DumpFormat {
    private final KdumpCodec codec;
    private final KdumpSettings settings;

    /** One format per codec. */
    public KdumpFormat(KdumpCodec codec, KdumpSettings settings) {
        this.codec = codec;
        this.settings = settings;
    }

    /** A format for each codec, in {@link KdumpCodec} order. */
    public static List<KdumpFormat> all(KdumpSettings settings) {
        return Arrays.stream(KdumpCodec.values()).map(c -> new KdumpFormat(c, settings)).toList();
    }

    @Override
    public String name() {
        return "kdump-" + codec.id();
    }

    @Override
    public boolean hasFlattenedForm() {
        return true;
    }

    @Override
    public void check(PreparedDump dump) {
        plan(dump);
    }

    @Override
    public long write(PreparedDump dump, WritableByteChannel out, boolean seekable, ProgressListener progress)
            throws IOException {
        KdumpLayout layout = plan(dump);
        KdumpSink sink;
        if (seekable) {
            if (!(out instanceof FileChannel fc)) {
                throw new IllegalStateException("the seekable kdump form needs a FileChannel, got " + out);
            }
            sink = KdumpSink.seekable(fc);
        } else {
            sink = KdumpSink.flattened(out);
        }
        return new KdumpWriter(layout, dump.noteBytes(), dump.blocks(), codec, settings).write(sink, progress);
    }

    /**
     * The layout of this dump. The header's {@code utsname.release} and {@code phys_base} come from the VMCOREINFO
     * the dump was prepared with (the source's, or the one found in guest memory), even when the VMCOREINFO note
     * itself is not written; {@code utsname.machine} and the {@code phys_base} rule are the plugin's.
     */
    public KdumpLayout plan(PreparedDump dump) {
        GuestVmcoreinfo vmcoreinfo = GuestVmcoreinfo.of(dump.state()).orElse(GuestVmcoreinfo.empty());
        ArchitectureSupport arch = dump.guest().arch().arch();
        long physBase = arch.physBase(dump.target(), vmcoreinfo, dump.state().memory().blocks());
        if (dump.levelFilter() != null) {
            LevelFilter f = dump.levelFilter();
            // zero pages stay in the bitmap and share one page, as makedumpfile writes them at any level
            return KdumpLayout.plan(dump.target(), dump.notes(), dump.noteBytes(), dump.blocks(), codec,
                    settings.excludeZeroPages(), physBase, utsname(dump, arch), dump.state().cpus().size(), f::kept,
                    f.level().value() | (settings.excludeZeroPages() ? KdumpSubHeader.DL_EXCLUDE_ZERO : 0));
        }
        return KdumpLayout.plan(dump.target(), dump.notes(), dump.noteBytes(), dump.blocks(), codec,
                settings.excludeZeroPages(), physBase, utsname(dump, arch), dump.state().cpus().size());
    }

    /** The prepared utsname, or one from VMCOREINFO alone for a dump prepared without it. */
    private static Utsname utsname(PreparedDump dump, ArchitectureSupport arch) {
        return dump.utsname() != null ? dump.utsname() : Utsname.complete(Optional.empty(),
                GuestVmcoreinfo.of(dump.state()), arch.utsMachine(dump.target()));
    }
}
