package io.guestdump.arch.s390x;

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
 * The walker-level version of the gdb check on the golden Debian 6.1 s390x guest: DAT from the monitor
 * text's CR13 (the kernel runs in the home space) translates each PSW address to the kernel's code and
 * init_uts_ns to the release string VMCOREINFO names.
 */
class S390xPageTableGoldenTest {
    /** offsetof(struct uts_namespace, name.release). */
    static final int UTS_RELEASE_OFFSET = 130;

    @Test
    void datFromCr13TranslatesPswAddressAndInitUtsNs() throws Exception {
        String text = Files.readString(GoldenFiles.require("s390x", "info-registers-a.txt"));
        List<VcpuState> cpus = S390xFixtures.arch().parseMonitorRegisters(text, "info-registers-a.txt");
        GuestMemory memory = GoldenGuestMemory.memory("s390x");
        GuestState guest = new GuestState("s390x", memory, cpus, Map.of(), Optional.empty());
        GuestVmcoreinfo vi = GuestVmcoreinfo.parse(VmcoreinfoScanner.find(memory).orElseThrow().text());
        PageTableWalker walker = S390xFixtures.arch().pageTableWalker().orElseThrow();
        // the idle vCPU 1 waits after LPSWE (0xb2b2), vCPU 0 runs AGR (0xb908)
        int[] opcodes = {0xb908, 0xb2b2};
        int[] opcodeOffsets = {0, -4};

        for (VcpuState cpu : cpus) {
            assertTrue(walker.pagingEnabled(cpu));
            assertEquals("c13", S390xPageTableWalker.asceRegister(cpu), "Linux runs the kernel in the home space");
            RecordingSink sink = new RecordingSink();
            walker.walk(guest, cpu, memory, sink);
            long pc = cpu.u64(S390xRegisters.PSW_ADDR);
            long phys = sink.translate(pc);
            assertEquals(pc, phys, "the kernel is identity-mapped");
            long opcode = memory.readInt(phys + opcodeOffsets[cpu.index()], ByteOrder.BIG_ENDIAN) >>> 16;
            assertEquals(opcodes[cpu.index()], opcode);
            long release = sink.translate(vi.symbol("init_uts_ns").orElseThrow() + UTS_RELEASE_OFFSET);
            assertEquals(vi.get("OSRELEASE").orElseThrow(), GoldenGuestMemory.cString(memory, release, 65));
            long identity = sink.pages(4096).entrySet().stream().filter(e -> e.getKey().equals(e.getValue())).count();
            assertEquals(memory.size(), identity * 4096L, "all of RAM is identity-mapped (plus vmalloc, vmemmap...)");
        }
    }
}
