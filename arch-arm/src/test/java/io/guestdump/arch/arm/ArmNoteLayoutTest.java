package io.guestdump.arch.arm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.guestdump.arch.api.DumpTarget;
import io.guestdump.arch.api.GuestState;
import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.arch.api.UnsupportedGuestException;
import io.guestdump.arch.api.VcpuState;
import io.guestdump.elf.ElfClass;
import io.guestdump.elf.ElfData;
import io.guestdump.elf.Note;
import io.guestdump.elf.NoteType;
import io.guestdump.memory.ByteArrayData;
import io.guestdump.memory.GuestBlock;
import io.guestdump.memory.GuestMemory;
import io.guestdump.memory.PhysRange;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Field offsets of the 32-bit ARM notes, the ELF32 limit, and how target and page size are decided. */
class ArmNoteLayoutTest {
    private final ArmArchitecture plugin = ArmTestGuests.plugin();

    @Test
    void prstatusAndVfpFieldsSitAtTheirOffsetsInBothByteOrders() {
        for (ElfData data : ElfData.values()) {
            long sctlr = data == ElfData.MSB ? 1L << 25 : 0;
            VcpuState cpu0 = ArmCpus.arm(0).set("sctlr", sctlr).build();
            VcpuState cpu1 = ArmCpus.arm(1).set("sctlr", sctlr).build();
            GuestState guest = ArmTestGuests.guest("arm", List.of(cpu0, cpu1));
            DumpTarget target = plugin.describe(guest);
            assertEquals(new DumpTarget(ArmElf.EM_ARM, ElfClass.ELF32, data, 4096), target);
            List<Note> notes = ArmTestGuests.notes(plugin, guest);
            assertEquals(4, notes.size());
            Note prstatus = notes.get(2);
            assertEquals("CORE", prstatus.owner());
            assertEquals(NoteType.NT_PRSTATUS, prstatus.type());
            assertEquals(148, prstatus.descSize());
            ByteBuffer d = data.wrap(prstatus.desc());
            // pr_pid
            assertEquals(2, d.getInt(24));
            // pr_reg[0] = r0, pr_reg[15] = r15 (pc), pr_reg[16] = cpsr, pr_reg[17] = ORIG_r0 = 0
            assertEquals(cpu1.u32("r0"), d.getInt(72));
            assertEquals(cpu1.u32("r15"), d.getInt(72 + 15 * 4));
            assertEquals(0x6003_0093, d.getInt(136));
            assertEquals(0, d.getInt(140));
            // pr_fpvalid
            assertEquals(1, d.getInt(144));
            Note vfp = notes.get(3);
            assertEquals("LINUX", vfp.owner());
            assertEquals(ArmElf.NT_ARM_VFP, vfp.type());
            assertEquals(260, vfp.descSize());
            ByteBuffer v = data.wrap(vfp.desc());
            // fpregs[7] = d7, fpscr
            assertEquals(cpu1.u64("d7"), v.getLong(7 * 8));
            assertEquals(0x8000_0000, v.getInt(256));
        }
    }

    @Test
    void withoutVfpThereIsNoVfpNoteAndFpvalidIsZero() {
        VcpuState.Builder b = VcpuState.builder(0);
        for (String r : ArmPrStatus.REGISTERS) {
            b.set(r, 1);
        }
        GuestState guest = ArmTestGuests.guest("arm", List.of(b.build()));
        List<Note> notes = ArmTestGuests.notes(plugin, guest);
        assertEquals(1, notes.size());
        assertEquals(0, ElfData.LSB.wrap(notes.get(0).desc()).getInt(144));
    }

    @Test
    void armGuestWithMemoryAbove4GiBIsRefused() {
        GuestMemory memory = new GuestMemory(List.of(
                new GuestBlock(PhysRange.ofLength(0x4000_0000L, 4096), new ByteArrayData(new byte[4096]),
                        "mach-virt.ram"),
                new GuestBlock(PhysRange.ofLength(0x1_0000_0000L, 0x4000_0000L),
                        ArmTestGuests.zeros(0x4000_0000L), "mach-virt.highmem")));
        GuestState guest = new GuestState("arm", memory, List.of(ArmCpus.arm(0).build()), Map.of(), Optional.empty());
        UnsupportedGuestException e = assertThrows(UnsupportedGuestException.class, () -> plugin.describe(guest));
        String m = e.getMessage();
        assertTrue(m.contains("mach-virt.highmem"), m);
        assertTrue(m.contains("ELFCLASS32"), m);
        assertTrue(m.contains("--begin/--length filter"), m);
        assertTrue(m.contains("whole guest"), m);
    }

    @Test
    void blockEndingExactlyAt4GiBStillFitsElf32() {
        GuestMemory memory = new GuestMemory(List.of(new GuestBlock(PhysRange.ofLength(0xffff_f000L, 4096),
                new ByteArrayData(new byte[4096]), "top")));
        GuestState guest = new GuestState("arm", memory, List.of(ArmCpus.arm(0).build()), Map.of(), Optional.empty());
        assertEquals(ElfClass.ELF32, plugin.describe(guest).elfClass());
    }

    @Test
    void aarch64GuestAbove4GiBIsFine() {
        GuestMemory memory = new GuestMemory(List.of(new GuestBlock(PhysRange.ofLength(0x1_0000_0000L, 4096),
                new ByteArrayData(new byte[4096]), "high")));
        GuestState guest = new GuestState("aarch64", memory, List.of(ArmCpus.aarch64(0).build()), Map.of(),
                Optional.empty());
        assertEquals(ElfClass.ELF64, plugin.describe(guest).elfClass());
    }

    @Test
    void aarch64PageSizeComesFromVmcoreinfoThenConfig() {
        List<VcpuState> cpus = List.of(ArmCpus.aarch64(0).build());
        assertEquals(16384, plugin.describe(ArmTestGuests.guest("aarch64", cpus,
                "OSRELEASE=6.1.0\nPAGESIZE=16384\nSYMBOL(swapper_pg_dir)=ffff\n")).pageSize());
        assertEquals(65536, plugin.describe(ArmTestGuests.guest("aarch64", cpus, "OSRELEASE=6.1.0\n")).pageSize());
        ArmArchitecture fourK = ArmTestGuests.plugin("guestdump.arch.arm.aarch64-default-page-size = 4 KiB");
        assertEquals(4096, fourK.describe(ArmTestGuests.guest("aarch64", cpus)).pageSize());
    }

    @Test
    void damagedPagesizeInVmcoreinfoIsReported() {
        List<VcpuState> cpus = List.of(ArmCpus.aarch64(0).build());
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> plugin.describe(ArmTestGuests.guest("aarch64", cpus, "PAGESIZE=4097\n")));
        assertTrue(e.getMessage().contains("PAGESIZE=4097"), e.getMessage());
    }

    @Test
    void badDefaultPageSizeIsRefused() {
        assertThrows(InvalidInputException.class,
                () -> ArmTestGuests.plugin("guestdump.arch.arm.aarch64-default-page-size = 5000"));
    }

    @Test
    void identityAndMachines() {
        assertEquals("arm", plugin.id());
        assertEquals(List.of("aarch64", "arm"), List.copyOf(plugin.machines()));
        assertEquals(java.util.Set.of(ArmElf.EM_AARCH64, ArmElf.EM_ARM), plugin.elfMachines());
        assertEquals("aarch64", plugin.machineFor(new DumpTarget(ArmElf.EM_AARCH64, ElfClass.ELF64, ElfData.LSB,
                65536)));
        assertEquals("arm", plugin.machineFor(new DumpTarget(ArmElf.EM_ARM, ElfClass.ELF32, ElfData.MSB, 4096)));
    }

    @Test
    void registerNamesHoldTheSystemRegistersForPagingWork() {
        assertTrue(plugin.registerNames("aarch64").containsAll(
                List.of("x0", "x30", "sp", "pc", "pstate", "v31", "fpsr", "fpcr", "sctlr_el1", "ttbr0_el1",
                        "ttbr1_el1", "tcr_el1", "z31", "p15", "ffr", "sve_vq", "sve_max_vq", "r15", "cpsr", "d31",
                        "fpscr")));
        assertTrue(plugin.registerNames("arm").containsAll(
                List.of("r0", "r15", "cpsr", "d0", "d31", "fpscr", "sctlr", "ttbr0", "ttbr1", "ttbcr")));
        assertTrue(!plugin.registerNames("arm").contains("x0"));
    }
}
