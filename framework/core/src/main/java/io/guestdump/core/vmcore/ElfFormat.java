package io.guestdump.core.vmcore;

import com.typesafe.config.Config;
import io.guestdump.core.PreparedDump;
import io.guestdump.core.kernel.LevelFilter;
import io.guestdump.memory.GuestBlock;
import io.guestdump.memory.MemoryMapping;
import java.io.IOException;
import java.nio.channels.WritableByteChannel;
import java.util.List;

/** The ELF vmcore: planned by {@link VmcoreLayout}, streamed by {@link VmcoreWriter}. */
public final class ElfFormat implements DumpFormat {
    private final boolean sparse;

    /**
     * @param sparse leave all-zero pieces of guest memory as holes when writing a file
     */
    public ElfFormat(boolean sparse) {
        this.sparse = sparse;
    }

    /** Reads {@code guestdump.elf} from the resolved configuration. */
    public static ElfFormat from(Config config) {
        return new ElfFormat(config.getBoolean("guestdump.elf.sparse"));
    }

    @Override
    public String name() {
        return "elf";
    }

    @Override
    public void check(PreparedDump dump) {
        plan(dump);
    }

    @Override
    public long write(PreparedDump dump, WritableByteChannel out, boolean seekable, ProgressListener progress)
            throws IOException {
        VmcoreLayout layout = plan(dump);
        VmcoreWriter.write(layout, dump.noteBytes(), out, sparse && seekable, seekable, progress);
        return layout.fileSize();
    }

    /** The layout of this dump. */
    public static VmcoreLayout plan(PreparedDump dump) {
        LevelFilter f = dump.levelFilter();
        if (f == null) {
            return VmcoreLayout.plan(dump.target(), dump.noteBytes().length, dump.mappings(), dump.blocks());
        }
        LevelFilter.ElfPieces pieces = f.elfPieces(dump.blocks());
        List<MemoryMapping> mappings = isSimple(dump.mappings(), dump.blocks()) ? pieces.loads()
                : LevelFilter.clipMappings(dump.mappings(), pieces.stored());
        return VmcoreLayout.plan(dump.target(), dump.noteBytes().length, mappings, pieces.stored());
    }

    /** Whether the mappings are simple mode's one identity mapping per block (or paging's identity fallback). */
    private static boolean isSimple(List<MemoryMapping> mappings, List<GuestBlock> blocks) {
        if (mappings.size() != blocks.size()) {
            return false;
        }
        for (int i = 0; i < mappings.size(); i++) {
            MemoryMapping m = mappings.get(i);
            GuestBlock b = blocks.get(i);
            if (m.virt() != m.phys() || m.phys() != b.range().start() || m.length() != b.range().length()) {
                return false;
            }
        }
        return true;
    }
}
