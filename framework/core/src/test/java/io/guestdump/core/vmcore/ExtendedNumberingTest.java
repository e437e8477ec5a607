package io.guestdump.core.vmcore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.guestdump.arch.api.DumpTarget;
import io.guestdump.core.inspect.VmcoreFile;
import io.guestdump.elf.ElfClass;
import io.guestdump.elf.ElfConstants;
import io.guestdump.elf.ElfData;
import io.guestdump.core.TestMachines;
import io.guestdump.elf.ProgramHeader;
import io.guestdump.memory.GuestBlock;
import io.guestdump.memory.PhysRange;
import io.guestdump.testkit.PatternData;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * PN_XNUM at its threshold: 1 + n program headers reaching 0xffff switch to extended numbering, with the real
 * count in section header 0's sh_info. Checked on written files, in both classes and byte orders, and with
 * readelf where it is installed.
 */
class ExtendedNumberingTest {
    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0} loads, {1} {2}")
    @CsvSource({"65533, ELF64, LSB", "65534, ELF64, LSB", "65534, ELF32, MSB", "65535, ELF64, MSB",
            "70000, ELF32, LSB"})
    void phnumSwitchesToPnXnumAtTheThreshold(int loads, ElfClass c, ElfData d) throws IOException,
            InterruptedException {
        List<GuestBlock> blocks = new ArrayList<>();
        for (int i = 0; i < loads; i++) {
            long start = 0x10000L + 16L * i; // 1-byte blocks with gaps: one PT_LOAD each
            blocks.add(new GuestBlock(PhysRange.ofLength(start, 1), new PatternData(start, 1), "b" + i));
        }
        DumpTarget target = new DumpTarget(TestMachines.EM_RISCV, c, d, 4096);
        VmcoreLayout layout = VmcoreLayout.plan(target, 0, MappingPlanner.simple(blocks), blocks);
        Path out = dir.resolve("xnum.vmcore");
        try (FileChannel ch = FileChannel.open(out, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            VmcoreWriter.write(layout, new byte[0], ch, ProgressListener.NONE);
        }
        boolean xnum = 1 + loads >= ElfConstants.PN_XNUM;
        try (VmcoreFile f = VmcoreFile.open(out)) {
            assertEquals(xnum ? ElfConstants.PN_XNUM : 1 + loads, f.header().phnum());
            assertEquals(1 + loads, f.phnum(), "the real count");
            assertEquals(xnum ? 1 : 0, f.header().shnum());
            assertEquals(xnum ? c.shdrSize() : 0, f.header().shentsize());
            List<ProgramHeader> l = f.loads();
            assertEquals(loads, l.size());
            ProgramHeader last = l.get(loads - 1);
            assertEquals(0x10000L + 16L * (loads - 1), last.paddr());
            byte[] bytes = Files.readAllBytes(out);
            assertEquals(PatternData.byteAt(last.paddr()), bytes[(int) last.offset()]);
        }
        if (xnum && Files.isExecutable(Path.of("/usr/bin/readelf"))) {
            Process p = new ProcessBuilder("readelf", "-lW", out.toString()).redirectErrorStream(true).start();
            String text = new String(p.getInputStream().readAllBytes());
            assertTrue(p.waitFor(60, TimeUnit.SECONDS));
            assertTrue(text.contains("There are " + (1 + loads) + " program headers"), text.substring(0,
                    Math.min(400, text.length())));
            assertTrue(!text.contains("Error") && !text.contains("Warning"), text.substring(0, Math.min(400, text.length())));
        }
    }
}
