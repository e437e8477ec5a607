package io.guestdump.arch.i386;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.typesafe.config.ConfigFactory;
import io.guestdump.arch.api.ArchContext;
import io.guestdump.arch.api.GuestState;
import io.guestdump.arch.api.PageTableWalker;
import io.guestdump.arch.api.VcpuState;
import io.guestdump.core.inspect.VmcoreFile;
import io.guestdump.core.paging.PagingPlanner;
import io.guestdump.elf.ProgramHeader;
import io.guestdump.memory.FileRegion;
import io.guestdump.memory.GuestBlock;
import io.guestdump.memory.GuestMemory;
import io.guestdump.memory.MemoryMapping;
import io.guestdump.memory.PhysRange;
import io.guestdump.testkit.GoldenFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The i386 plugin's walker, on its own register names, gives QEMU's paging=true list of the golden i386 guest
 * (32-bit paging with PSE) exactly: 32-bit addresses need none of the x86_64 fixes.
 */
class I386PagingTest {
    @Test
    void goldenGuestPlansExactlyQemusPtLoads() throws Exception {
        I386Architecture arch = new I386Architecture(
                new ArchContext(ConfigFactory.defaultReference().getConfig("guestdump.arch.i386")));
        PageTableWalker walker = arch.pageTableWalker().orElseThrow();
        Path dir = GoldenFiles.require("i386");
        Path full = GoldenFiles.unpackedFull("i386");
        List<VcpuState> cpus = arch.parseMonitorRegisters(Files.readString(dir.resolve("info-registers-a.txt")),
                "info-registers-a.txt");
        try (VmcoreFile file = VmcoreFile.open(full)) {
            List<GuestBlock> blocks = new ArrayList<>();
            for (ProgramHeader p : file.loads()) {
                blocks.add(new GuestBlock(PhysRange.ofLength(p.paddr(), p.filesz()),
                        new FileRegion(file.channel(), p.offset(), p.filesz(), "qemu-full.elf"), "b"));
            }
            GuestState state = new GuestState("i386", new GuestMemory(blocks), cpus, Map.of(), Optional.empty());
            PagingPlanner.Plan plan = PagingPlanner.plan(walker, state, Optional.empty());
            List<MemoryMapping> qemu = new ArrayList<>();
            for (String line : Files.readAllLines(dir.resolve("qemu-paging-loads.txt"))) {
                String[] f = line.trim().split("\\s+");
                qemu.add(new MemoryMapping(Long.decode(f[2]), Long.decode(f[1]), Long.decode(f[4])));
            }
            assertEquals(0, plan.skipped());
            assertEquals(qemu, List.copyOf(plan.mappings()));
        }
    }
}
