package io.guestdump.dist;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.guestdump.testkit.GoldenFiles;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The default ELF dump of the golden x86_64 guest (82 % zero pages) is sparse: the same bytes as the dense dump
 * ({@code -D guestdump.elf.sparse=false}), in far fewer disk blocks.
 */
class SparseElfIT {
    @TempDir
    Path work;

    @Test
    void theDefaultDumpOfTheGoldenGuestIsSparseWithTheDenseBytes() throws Exception {
        Path qemu = GoldenFiles.unpackedFull("x86_64");
        Dist.guestdump(work, "dump", "elf:" + qemu, "-D", "guestdump.elf.sparse=false", "-o", "dense.vmcore")
                .expect(0);
        Dist.guestdump(work, "dump", "elf:" + qemu, "-o", "sparse.vmcore").expect(0);
        Dist.Run cmp = Dist.run(work, Map.of(), List.of("cmp", "dense.vmcore", "sparse.vmcore"));
        assertTrue(cmp.exit() == 0, "the sparse file differs: " + cmp.out() + cmp.err());
        Dist.Run stat = Dist.run(work, Map.of(), List.of("stat", "-c", "%b", "dense.vmcore", "sparse.vmcore"))
                .expect(0);
        long[] blocks = stat.out().lines().mapToLong(Long::parseLong).toArray();
        assertTrue(blocks[1] * 3 < blocks[0], "sparse " + blocks[1] + " blocks, dense " + blocks[0]);
    }
}
