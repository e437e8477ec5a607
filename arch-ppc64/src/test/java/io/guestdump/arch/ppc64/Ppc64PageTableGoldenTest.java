package io.guestdump.arch.ppc64;

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
 * The golden pseries POWER9 guest runs the hash MMU (LPCR.HR clear), so the walker reports the kernel linear map;
 * through it each NIP lands after the idle {@code sc 1} (H_CEDE) and init_uts_ns reads as OSRELEASE.
 */
class Ppc64PageTableGoldenTest {
    /** {@code sc 1}: the hypervisor call of the idle loop. */
    static final long SC_1 = 0x44000022L;
    static final int UTS_RELEASE_OFFSET = 130;

    @Test
    void hashGuestLinearMapTranslatesNipAndInitUtsNs() throws Exception {
        String text = Files.readString(GoldenFiles.require("ppc64le", "info-registers-a.txt"));
        List<VcpuState> cpus = Ppc64Fixtures.arch().parseMonitorRegisters(text, "info-registers-a.txt");
        GuestMemory memory = GoldenGuestMemory.memory("ppc64le");
        GuestState guest = new GuestState("ppc64", memory, cpus, Map.of(), Optional.empty());
        GuestVmcoreinfo vi = GuestVmcoreinfo.parse(VmcoreinfoScanner.find(memory).orElseThrow().text());
        PageTableWalker walker = Ppc64Fixtures.arch().pageTableWalker().orElseThrow();
        for (VcpuState cpu : cpus) {
            assertTrue(walker.pagingEnabled(cpu));
            assertEquals(0, cpu.u64("lpcr") & Ppc64PageTableWalker.LPCR_HR, "the golden guest uses the hash MMU");
            RecordingSink sink = new RecordingSink();
            walker.walk(guest, cpu, memory, sink);
            assertEquals(Ppc64PageTableWalker.HASH_FALLBACK, sink.skipped.get(0).reason());
            long nip = cpu.u64("nip");
            long phys = sink.translate(nip);
            assertEquals(nip - Ppc64PageTableWalker.PAGE_OFFSET, phys);
            assertEquals(SC_1, memory.readInt(phys - 4, ByteOrder.LITTLE_ENDIAN));
            long release = sink.translate(vi.symbol("init_uts_ns").orElseThrow() + UTS_RELEASE_OFFSET);
            assertEquals(vi.get("OSRELEASE").orElseThrow(), GoldenGuestMemory.cString(memory, release, 65));
        }
    }
}
