package io.guestdump.arch.arm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.guestdump.arch.api.DumpTarget;
import io.guestdump.arch.api.GuestVmcoreinfo;
import io.guestdump.elf.ElfClass;
import io.guestdump.elf.ElfData;
import io.guestdump.memory.ByteArrayData;
import io.guestdump.memory.GuestBlock;
import io.guestdump.memory.PhysRange;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What the ARM plugin tells the framework for a kdump header and a live source (moved from core). */
class ArmKdumpFactsTest {
    static final ArmArchitecture ARCH = ArmTestGuests.plugin("");
    static final DumpTarget A64 = new DumpTarget(ArmElf.EM_AARCH64, ElfClass.ELF64, ElfData.LSB, 4096);
    static final DumpTarget ARM = new DumpTarget(ArmElf.EM_ARM, ElfClass.ELF32, ElfData.LSB, 4096);
    static final List<GuestBlock> RAM = List.of(
            new GuestBlock(PhysRange.ofLength(0x4000_0000L, 4096), new ByteArrayData(new byte[4096]), "ram"));

    @Test
    void utsMachineIsWhatUnameMPrints() {
        assertEquals("aarch64", ARCH.utsMachine(A64));
        assertEquals("arm", ARCH.utsMachine(ARM));
        assertEquals("EM_AARCH64", ARCH.elfMachineName(183));
        assertEquals("EM_ARM", ARCH.elfMachineName(40));
    }

    @Test
    void physOffsetIsHexAndWithoutItTheLowestRamAddress() {
        assertEquals(0xffffde6000000000L,
                ARCH.physBase(A64, GuestVmcoreinfo.parse("NUMBER(PHYS_OFFSET)=0xffffde6000000000\n"), RAM));
        assertEquals(0x4000_0000L, ARCH.physBase(A64, GuestVmcoreinfo.empty(), RAM));
        assertEquals(0x4000_0000L, ARCH.physBase(ARM, GuestVmcoreinfo.parse("OSRELEASE=x\n"), RAM));
        assertEquals(0L, ARCH.physBase(ARM, GuestVmcoreinfo.empty(), List.of()));
    }

    @Test
    void theAarch64WalkerRegistersComeFromTheGdbstub() {
        assertEquals(Map.of("SCTLR", "sctlr_el1", "TCR_EL1", "tcr_el1", "TTBR0_EL1", "ttbr0_el1",
                "TTBR1_EL1", "ttbr1_el1"), ARCH.gdbstubRegisters("aarch64"));
        assertEquals(Map.of(), ARCH.gdbstubRegisters("arm"));
    }
}
