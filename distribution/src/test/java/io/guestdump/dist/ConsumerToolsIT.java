package io.guestdump.dist;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** readelf, eu-readelf, gdb-multiarch and libkdumpfile accept the bundled sample's dump. */
class ConsumerToolsIT {
    @TempDir
    static Path work;

    static Path vmcore;

    @BeforeAll
    static void dump() throws Exception {
        Dist.guestdump(work, "dump", "sample:", "-o", "sample.vmcore").expect(0);
        vmcore = work.resolve("sample.vmcore");
    }

    @Test
    void readelfReadsHeadersSegmentsAndNotesWithoutComplaint() throws Exception {
        Tools.require("readelf");
        Dist.Run r = Dist.run(work, Map.of(), List.of("readelf", "-hlnW", vmcore.toString())).expect(0);
        assertTrue(r.err().isEmpty(), "readelf complained: " + r.err());
        assertTrue(r.out().contains("Size of this header:               64 (bytes)"), r.out());
        assertTrue(r.out().contains("NT_PRSTATUS"), r.out());
        assertFalse(r.out().contains("Warning") || r.out().contains("Error"), r.out());
    }

    @Test
    void euReadelfDecodesEveryPrstatus() throws Exception {
        Tools.require("eu-readelf");
        Dist.Run r = Dist.run(work, Map.of(), List.of("eu-readelf", "-n", vmcore.toString())).expect(0);
        assertTrue(r.err().isEmpty(), r.err());
        assertTrue(r.out().contains("pid: 1,") && r.out().contains("pid: 2,"), r.out());
        assertTrue(r.out().contains("rip:      0xffffffff81001002"), r.out());
        assertTrue(r.out().contains("VMCOREINFO"), r.out());
    }

    @Test
    void gdbShowsEachThreadsRegisters() throws Exception {
        Tools.require("gdb-multiarch");
        Dist.Run r = Dist.run(work, Map.of(), List.of("gdb-multiarch", "-nx", "-batch", "-ex",
                "set architecture i386:x86-64", "-ex", "core-file " + vmcore, "-ex", "info threads", "-ex", "thread 1",
                "-ex", "info registers rip rsp cs", "-ex", "thread 2", "-ex", "info registers rip rsp")).expect(0);
        assertTrue(r.out().contains("LWP 1") && r.out().contains("LWP 2"), r.out());
        assertTrue(r.out().contains("rsp            0xffff88800008ff98"), r.out());
        assertTrue(r.out().contains("rsp            0xffff888000093f98"), r.out());
        assertTrue(r.out().contains("rip            0xffffffff81001002"), r.out());
        assertTrue(r.out().contains("cs             0x10"), r.out());
    }

    @Test
    void libkdumpfileOpensItAndPhysicalReadsEqualTheSnapshot() throws Exception {
        Tools.require("python3-libkdumpfile");
        Path ram = Dist.home().resolve("config/guests/sample-x86_64-ram.bin");
        String script = String.join("\n",
                "import kdumpfile, sys",
                "k = kdumpfile.kdumpfile(sys.argv[1])",
                "ram = open(sys.argv[2], 'rb').read()",
                "assert k.attr['file.format'] == 'elf', k.attr['file.format']",
                "assert k.attr['arch.name'] == 'x86_64', k.attr['arch.name']",
                "assert k.attr['cpu.number'] == 2",
                "assert k.attr['linux.uts.release'] == '6.1.0-guestdump-sample'",
                "blocks = [(0x0, 0xa0000, 0), (0x100000, 0x300000, 0xa0000)]",
                "n = 0",
                "for start, size, off in blocks:",
                "    for a in range(start, start + size, 4096):",
                "        got = k.read(kdumpfile.KDUMP_MACHPHYSADDR, a, 4096)",
                "        want = ram[off + a - start: off + a - start + 4096]",
                "        assert got == want, hex(a)",
                "        n += 1",
                "print('pages', n)");
        Path py = Files.writeString(work.resolve("check.py"), script);
        Dist.Run r = Dist.run(work, Map.of(), List.of("/usr/bin/python3", py.toString(), vmcore.toString(),
                ram.toString())).expect(0);
        assertTrue(r.out().contains("pages 928"), r.out() + r.err());
    }
}
