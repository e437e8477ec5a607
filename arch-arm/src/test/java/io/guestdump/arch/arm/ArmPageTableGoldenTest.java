package io.guestdump.arch.arm;

import io.guestdump.arch.api.VmcoreinfoScanner;
import io.guestdump.arch.api.GuestVmcoreinfo;
import io.guestdump.testkit.GoldenGuestMemory;
import io.guestdump.testkit.RecordingSink;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.guestdump.arch.api.GuestState;
import io.guestdump.arch.api.PageTableWalker;
import io.guestdump.arch.api.VcpuState;
import io.guestdump.memory.GuestMemory;
import io.guestdump.testkit.GoldenFiles;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The walker-level version of the gdb check on the golden Debian 6.1 guests: through the walked tables,
 * each vCPU's PC lands on the kernel's idle code (the instruction before it is WFI) and init_uts_ns's release
 * string reads as VMCOREINFO's OSRELEASE.
 */
class ArmPageTableGoldenTest {
    /** A64 WFI. */
    static final long A64_WFI = 0xd503207fL;
    /** A32 WFI. */
    static final long A32_WFI = 0xe320f003L;
    /** offsetof(struct uts_namespace, name.release): OFFSET(uts_namespace.name) = 0, then 2 x 65 bytes. */
    static final int UTS_RELEASE_OFFSET = 130;

    @Test
    void aarch64KernelHalfTranslatesPcAndInitUtsNs() throws Exception {
        String text = Files.readString(GoldenFiles.require("aarch64", "info-registers-a.txt"));
        List<VcpuState> cpus = ArmTestGuests.plugin().parseMonitorRegisters(text, "info-registers-a.txt");
        GuestMemory memory = GoldenGuestMemory.memory("aarch64");
        String vmcoreinfo = GoldenGuestMemory.qemuVmcoreinfo("aarch64").orElseThrow();
        GuestVmcoreinfo vi = GuestVmcoreinfo.parse(vmcoreinfo);
        GuestState guest = new GuestState("aarch64", memory, cpus, Map.of(), Optional.of(vmcoreinfo));
        PageTableWalker walker = ArmTestGuests.plugin().pageTableWalker().orElseThrow();
        long voffset = vi.number("kimage_voffset").orElseThrow();

        for (VcpuState cpu : cpus) {
            assertTrue(walker.pagingEnabled(cpu), "vCPU " + cpu.index() + " runs in the TTBR1 half");
            RecordingSink sink = new RecordingSink();
            walker.walk(guest, cpu, memory, sink);
            long pc = cpu.u64("pc");
            long phys = sink.translate(pc);
            assertEquals(pc - voffset, phys, "PC translates like the kernel image (virt - kimage_voffset)");
            assertEquals(A64_WFI, GoldenGuestMemory.u32(memory, phys - 4, ByteOrder.LITTLE_ENDIAN));
            long release = sink.translate(vi.symbol("init_uts_ns").orElseThrow() + UTS_RELEASE_OFFSET);
            assertEquals(vi.get("OSRELEASE").orElseThrow(), GoldenGuestMemory.cString(memory, release, 65));
            // the linear map too: __virt_to_phys(x) = (x & ~PAGE_OFFSET) + PHYS_OFFSET, PAGE_OFFSET = -(1 << VA_BITS)
            long memSection = vi.symbol("mem_section").orElseThrow();
            long pageOffset = -(1L << vi.number("VA_BITS").orElseThrow());
            assertEquals((memSection & ~pageOffset) + vi.number("PHYS_OFFSET").orElseThrow(),
                    sink.translate(memSection));
        }
    }

    @Test
    void armLpaeTablesFromSwapperPgDirTranslatePcAndInitUtsNs() throws Exception {
        String text = Files.readString(GoldenFiles.require("arm", "info-registers-a.txt"));
        List<VcpuState> cpus = ArmTestGuests.plugin().parseMonitorRegisters(text, "info-registers-a.txt");
        GuestMemory memory = GoldenGuestMemory.memory("arm");
        // QEMU's arm dump has no VMCOREINFO: the framework's one search finds the kernel's own note in guest
        // memory and hands it to the walker in the state
        String found = VmcoreinfoScanner.find(memory).orElseThrow().text();
        GuestState guest = new GuestState("arm", memory, cpus, Map.of(), Optional.of(found));
        GuestVmcoreinfo vi = GuestVmcoreinfo.parse(found);
        assertTrue(vi.config("ARM_LPAE"));
        PageTableWalker walker = ArmTestGuests.plugin().pageTableWalker().orElseThrow();

        for (VcpuState cpu : cpus) {
            assertTrue(walker.pagingEnabled(cpu));
            RecordingSink sink = new RecordingSink();
            walker.walk(guest, cpu, memory, sink);
            long pc = cpu.u64("r15");
            long phys = sink.translate(pc);
            assertEquals(pc - 0xc000_0000L + 0x4000_0000L, phys, "lowmem: virt - PAGE_OFFSET + PHYS_OFFSET");
            assertEquals(A32_WFI, GoldenGuestMemory.u32(memory, phys - 4, ByteOrder.LITTLE_ENDIAN));
            long release = sink.translate(vi.symbol("init_uts_ns").orElseThrow() + UTS_RELEASE_OFFSET);
            assertEquals(vi.get("OSRELEASE").orElseThrow(), GoldenGuestMemory.cString(memory, release, 65));
        }
    }
}
