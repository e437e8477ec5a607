package io.guestdump.arch.riscv64;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.longs;

import io.guestdump.arch.api.CpuNote;
import io.guestdump.arch.api.DumpTarget;
import io.guestdump.arch.api.GuestState;
import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.arch.api.NoteGroup;
import io.guestdump.arch.api.UnsupportedGuestException;
import io.guestdump.arch.api.VcpuState;
import io.guestdump.core.notes.NoteSegmentBuilder;
import io.guestdump.elf.ElfClass;
import io.guestdump.elf.ElfData;
import io.guestdump.elf.Note;
import io.guestdump.elf.NoteEncoder;
import io.guestdump.elf.NoteType;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Dump target, note table and the parse → write → decode round trip. */
class Riscv64ArchitectureTest {
    private final Riscv64Architecture plugin = Riscv64Guests.plugin();

    private static GuestState guest(VcpuState... cpus) {
        return Riscv64Guests.guest(Riscv64Guests.ram(0x8000_0000L, new byte[4096]), List.of(cpus));
    }

    @Test
    void declaresItselfWithoutTheFramework() {
        assertEquals("riscv64", plugin.id());
        assertEquals(java.util.Set.of("riscv64"), plugin.machines());
        assertEquals(java.util.Set.of(243), plugin.elfMachines(), "EM_RISCV, declared by the plugin");
        assertTrue(plugin.pageTableWalker().isPresent());
    }

    @Test
    void kdumpHeaderFacts() {
        DumpTarget t = new DumpTarget(243, ElfClass.ELF64, ElfData.LSB, 4096);
        assertEquals("riscv64", plugin.utsMachine(t));
        assertEquals("EM_RISCV", plugin.elfMachineName(243));
        assertEquals(null, plugin.elfMachineName(62));
        List<io.guestdump.memory.GuestBlock> blocks = List.of(
                Riscv64Guests.ram(0x1000, new byte[0xf000]).blocks().get(0),
                Riscv64Guests.ram(0x8000_0000L, new byte[0x10000]).blocks().get(0));
        // the kernel prints phys_ram_base in decimal (VMCOREINFO_NUMBER)
        assertEquals(0x8000_0000L, plugin.physBase(t, io.guestdump.arch.api.GuestVmcoreinfo.parse(
                "OSRELEASE=6.12\nNUMBER(phys_ram_base)=2147483648\n"), blocks));
        // without VMCOREINFO: the largest block (DRAM), not virt's boot ROM at 0x1000
        assertEquals(0x8000_0000L, plugin.physBase(t, io.guestdump.arch.api.GuestVmcoreinfo.empty(), blocks));
    }

    @Test
    void targetIsElf64LittleEndianEmRiscvWith4KiBPages() {
        DumpTarget t = plugin.describe(guest(VcpuState.builder(0).set("mstatus", 0xa000000a0L).build()));
        assertEquals(new DumpTarget(243, ElfClass.ELF64, ElfData.LSB, 4096), t);
    }

    @Test
    void supervisorBigEndianMakesABigEndianDump() {
        DumpTarget t = plugin.describe(guest(VcpuState.builder(0).set("mstatus", 1L << 36).build()));
        assertEquals(ElfData.MSB, t.data());
        // UBE (bit 6), QEMU 7.2's choice, is the user's byte order, not the kernel's
        assertEquals(ElfData.LSB, plugin.describe(guest(VcpuState.builder(0).set("mstatus", 1L << 6).build()))
                .data());
    }

    @Test
    void oneCorePrstatusPerVcpuAndNothingElse() {
        GuestState g = guest(VcpuState.builder(0).build());
        List<CpuNote> table = plugin.cpuNotes(g, plugin.describe(g));
        assertEquals(1, table.size());
        CpuNote row = table.get(0);
        assertEquals("CORE", row.owner());
        assertEquals(NoteType.NT_PRSTATUS, row.type());
        assertEquals(NoteGroup.ARCH, row.group());
        assertEquals(376, row.descSize());
    }

    @Test
    void anotherMachineIsRefused() {
        GuestState g = new GuestState("riscv32", Riscv64Guests.ram(0, new byte[16]), List.of(VcpuState.builder(0)
                .build()), Map.of(), Optional.empty());
        UnsupportedGuestException e = assertThrows(UnsupportedGuestException.class, () -> plugin.describe(g));
        assertTrue(e.getMessage().contains("'riscv32'"), e.getMessage());
    }

    @Test
    void aPrstatusOfTheWrongSizeIsNamed() {
        DumpTarget t = new DumpTarget(243, ElfClass.ELF64, ElfData.LSB, 4096);
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> plugin.decodeNotes(List.of(
                new Note("CORE", NoteType.NT_PRSTATUS, new byte[392])), t));
        assertTrue(e.getMessage().contains("n_descsz=392") && e.getMessage().contains("376"), e.getMessage());
    }

    @Test
    void writeThenDecodeGivesBackThePrstatusRegistersInBothByteOrders() {
        qt().withExamples(200).forAll(longs().all()).checkAssert(seed -> {
            Random rnd = new Random(seed);
            int count = 1 + rnd.nextInt(4);
            ElfData order = rnd.nextBoolean() ? ElfData.LSB : ElfData.MSB;
            VcpuState[] cpus = new VcpuState[count];
            for (int c = 0; c < count; c++) {
                VcpuState.Builder b = VcpuState.builder(c).set("mstatus", order == ElfData.MSB ? 1L << 36 : 0);
                for (String name : Riscv64PrStatus.REGISTERS) {
                    b.set(name, rnd.nextLong());
                }
                cpus[c] = b.build();
            }
            GuestState g = guest(cpus);
            DumpTarget t = plugin.describe(g);
            assertEquals(order, t.data());
            List<Note> notes = NoteSegmentBuilder.build(plugin.cpuNotes(g, t), g.cpus(), t, "OSRELEASE=6.12\n",
                    List.of());
            byte[] segment = NoteEncoder.encode(notes, t.data());
            assertEquals(count * (12 + 8 + 376) + 12 + 12 + 16, segment.length, "note sizes come from the table");
            List<VcpuState> back = plugin.decodeNotes(NoteEncoder.decode(segment, t.data()).stream()
                    .filter(n -> !n.owner().equals("VMCOREINFO")).toList(), t);
            assertEquals(count, back.size());
            for (int c = 0; c < count; c++) {
                for (String name : Riscv64PrStatus.REGISTERS) {
                    assertEquals(cpus[c].value(name), back.get(c).value(name), "vCPU " + c + " " + name);
                }
                assertEquals(cpus[c].u64("mstatus"), back.get(c).u64("mstatus"), "mstatus.SBE survives");
            }
        });
    }
}
