package io.guestdump.core.vmcore;

import com.typesafe.config.Config;
import io.guestdump.core.PreparedDump;
import io.guestdump.core.kernel.LevelFilter;
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
        List<MemoryMapping> mappings;
        LevelFilter.ElfPieces pieces;
        if (LevelFilter.isLoadList(dump.mappings(), dump.blocks())) {
            // one PT_LOAD per piece of memory (simple mode, with or without kernel addresses): makedumpfile -E
            pieces = f.elfPieces(dump.mappings(), dump.blocks());
            mappings = pieces.loads();
        } else {
            // a page-table walk's mappings, aliases and all: cut to what is stored
            pieces = f.elfPieces(MappingPlanner.simple(dump.blocks()), dump.blocks());
            mappings = LevelFilter.clipMappings(dump.mappings(), pieces.stored());
        }
        return VmcoreLayout.plan(dump.target(), dump.noteBytes().length, mappings, pieces.stored());
    }

}
