package io.guestdump.dist;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code guestdump dump --paging} of the bundled sample guest (4-level page tables, two vCPUs halted in kernel
 * text): gdb reads it through virtual addresses, and {@code info} reports the walk.
 */
class PagingIT {
    @TempDir
    static Path work;

    static Path vmcore;

    @BeforeAll
    static void dump() throws Exception {
        Dist.Run r = Dist.guestdump(work, "dump", "sample:", "--paging", "-o", "paging.vmcore").expect(0);
        vmcore = work.resolve("paging.vmcore");
        Dist.Run info = Dist.guestdump(work, "info", vmcore.toString()).expect(0);
        assertTrue(info.out().contains("page-table walk: from vCPU 0, 0 entries skipped"), info.out());
    }

    /** The address VMCOREINFO gives for {@code init_uts_ns}. */
    static String initUtsNs() throws Exception {
        for (String line : Files.readAllLines(Dist.home().resolve("config/guests/sample-x86_64-vmcoreinfo.txt"))) {
            if (line.startsWith("SYMBOL(init_uts_ns)=")) {
                return "0x" + line.substring("SYMBOL(init_uts_ns)=".length());
            }
        }
        throw new AssertionError("the sample's VMCOREINFO names no init_uts_ns");
    }

    static Dist.Run gdb(Path core, String... commands) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("gdb-multiarch", "-nx", "-batch", "-ex",
                "set architecture i386:x86-64", "-ex", "core-file " + core));
        for (String c : commands) {
            cmd.add("-ex");
            cmd.add(c);
        }
        return Dist.run(work, Map.of(), cmd).expect(0);
    }

    @Test
    void gdbDisassemblesEachVcpusPcAndReadsTheReleaseThroughVirtualAddresses() throws Exception {
        Tools.require("gdb-multiarch");
        // new_utsname: sysname, nodename, release, ... each char[65]: release is at +130
        Dist.Run r = gdb(vmcore, "thread 1", "x/i $pc", "thread 2", "x/i $pc", "x/s " + initUtsNs() + " + 130");
        String out = r.out();
        int first = out.indexOf("=> 0xffffffff81001002");
        int second = out.indexOf("=> 0xffffffff81001002", first + 1);
        assertTrue(first >= 0 && second > first, "both vCPUs' PC disassembled:\n" + out + r.err());
        for (int at : new int[] {first, second}) {
            String line = out.substring(at, out.indexOf('\n', at));
            assertTrue(line.matches(".*:\\s+retq?\\s*"), "the instruction after the hlt is ret: " + line);
        }
        assertTrue(out.contains("0xffffffff81080082:\t\"6.1.0-guestdump-sample\"\n"), out + r.err());
        assertFalse(out.contains("Cannot access memory"), out + r.err());
    }

    /** Without --paging a Linux guest's ELF has the kernel's own addresses, as /proc/vmcore does. */
    @Test
    void withoutPagingTheKernelImageAndLinearMapAreStillReadable() throws Exception {
        Tools.require("gdb-multiarch");
        Dist.guestdump(work, "dump", "sample:", "-o", "simple.vmcore").expect(0);
        Dist.Run r = gdb(work.resolve("simple.vmcore"), "x/s " + initUtsNs() + " + 130",
                "x/s 0xffff888000280000 + 130");
        assertTrue(r.out().contains("0xffffffff81080082:\t\"6.1.0-guestdump-sample\"\n"), r.out() + r.err());
        assertTrue(r.out().contains("0xffff888000280082:\t\"6.1.0-guestdump-sample\"\n"), r.out() + r.err());
    }

    /** With guestdump.elf.kernel-addresses = false, p_vaddr = p_paddr as QEMU's paging=false writes it. */
    @Test
    void withoutKernelAddressesTheVirtualAddressesAreNotInTheDump() throws Exception {
        Tools.require("gdb-multiarch");
        Dist.guestdump(work, "dump", "sample:", "-D", "guestdump.elf.kernel-addresses=false", "-o", "physical.vmcore")
                .expect(0);
        Dist.Run r = gdb(work.resolve("physical.vmcore"), "x/s " + initUtsNs() + " + 130");
        assertTrue((r.out() + r.err()).contains("Cannot access memory at address 0xffffffff81080082"),
                r.out() + r.err());
    }

    @Test
    void infoReportsTheWalkAndReadelfSeesVirtualSegments() throws Exception {
        Dist.Run info = Dist.guestdump(work, "info", vmcore.toString()).expect(0);
        assertTrue(info.out().contains("page-table walk: from vCPU 0, 0 entries skipped"), info.out());
        assertTrue(info.out().contains("GUESTDUMP type 0x0"), info.out());
        assertTrue(info.out().contains("vaddr 0xffffffff81000000"), info.out());
        assertTrue(info.out().contains("vaddr 0xffff888000000000"), info.out());
        Tools.require("readelf");
        Dist.Run r = Dist.run(work, Map.of(), List.of("readelf", "-lW", vmcore.toString())).expect(0);
        assertTrue(r.err().isEmpty(), r.err());
        assertTrue(r.out().contains("0xffffffff81000000 0x0000000000200000 0x100000 0x100000"), r.out());
    }
}
