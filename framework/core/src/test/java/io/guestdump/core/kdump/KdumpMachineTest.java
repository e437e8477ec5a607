package io.guestdump.core.kdump;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.guestdump.arch.api.DumpTarget;
import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.elf.ElfClass;
import io.guestdump.elf.ElfData;
import io.guestdump.elf.Machine;
import io.guestdump.memory.ByteArrayData;
import io.guestdump.memory.GuestBlock;
import io.guestdump.memory.PhysRange;
import java.util.List;
import org.junit.jupiter.api.Test;

/** utsname.machine per architecture and phys_base in the radix the kernel prints it in. */
class KdumpMachineTest {
    static DumpTarget target(int machine, ElfClass c, ElfData d) {
        return new DumpTarget(machine, c, d, 4096);
    }

    static final List<GuestBlock> ARM_RAM = List.of(
            new GuestBlock(PhysRange.ofLength(0x4000_0000L, 4096), new ByteArrayData(new byte[4096]), "ram"));

    @Test
    void utsMachineIsWhatUnameMPrintsSoCrashAndLibkdumpfileAcceptIt() {
        assertEquals("x86_64", KdumpMachine.utsMachine(target(Machine.EM_X86_64, ElfClass.ELF64, ElfData.LSB)));
        assertEquals("i686", KdumpMachine.utsMachine(target(Machine.EM_386, ElfClass.ELF64, ElfData.LSB)));
        assertEquals("ppc64le", KdumpMachine.utsMachine(target(Machine.EM_PPC64, ElfClass.ELF64, ElfData.LSB)));
        assertEquals("ppc64", KdumpMachine.utsMachine(target(Machine.EM_PPC64, ElfClass.ELF64, ElfData.MSB)));
        assertEquals("s390x", KdumpMachine.utsMachine(target(Machine.EM_S390, ElfClass.ELF64, ElfData.MSB)),
                "lower case: crash compares case-sensitively (QEMU writes S390X)");
        assertEquals("aarch64", KdumpMachine.utsMachine(target(Machine.EM_AARCH64, ElfClass.ELF64, ElfData.LSB)));
        assertEquals("arm", KdumpMachine.utsMachine(target(Machine.EM_ARM, ElfClass.ELF32, ElfData.LSB)));
    }

    @Test
    void x86PhysBaseIsDecimalAndMayBeNegative() {
        DumpTarget t = target(Machine.EM_X86_64, ElfClass.ELF64, ElfData.LSB);
        assertEquals(-14680064L, KdumpMachine.physBase(t, "OSRELEASE=x\nNUMBER(phys_base)=-14680064\n", List.of()));
        assertEquals(0x4200000L, KdumpMachine.physBase(t, "NUMBER(phys_base)=69206016\n", List.of()),
                "QEMU reads this as 0x69206016");
        assertEquals(0, KdumpMachine.physBase(t, "OSRELEASE=x\n", List.of()));
        assertEquals(0, KdumpMachine.physBase(t, null, ARM_RAM));
    }

    @Test
    void arm64PhysOffsetIsHexAndArmFallsBackToTheLowestRamAddress() {
        DumpTarget a64 = target(Machine.EM_AARCH64, ElfClass.ELF64, ElfData.LSB);
        assertEquals(0xffffde6000000000L,
                KdumpMachine.physBase(a64, "NUMBER(PHYS_OFFSET)=0xffffde6000000000\n", ARM_RAM));
        assertEquals(0x4000_0000L, KdumpMachine.physBase(a64, null, ARM_RAM));
        DumpTarget arm = target(Machine.EM_ARM, ElfClass.ELF32, ElfData.LSB);
        assertEquals(0x4000_0000L, KdumpMachine.physBase(arm, "OSRELEASE=x\n", ARM_RAM));
    }

    @Test
    void otherArchitecturesHavePhysBase0() {
        for (int m : new int[] {Machine.EM_386, Machine.EM_PPC64, Machine.EM_S390}) {
            assertEquals(0, KdumpMachine.physBase(target(m, ElfClass.ELF64, ElfData.MSB),
                    "NUMBER(phys_base)=12345\n", ARM_RAM));
        }
    }

    @Test
    void aMalformedNumberNamesTheKeyAndTheText() {
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> KdumpMachine.physBase(
                target(Machine.EM_X86_64, ElfClass.ELF64, ElfData.LSB), "NUMBER(phys_base)=12z\n", List.of()));
        assertEquals(true, e.getMessage().contains("NUMBER(phys_base)=12z"), e.getMessage());
    }
}
