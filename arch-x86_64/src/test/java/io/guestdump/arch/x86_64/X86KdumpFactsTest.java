package io.guestdump.arch.x86_64;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.guestdump.arch.api.DumpTarget;
import io.guestdump.arch.api.GuestVmcoreinfo;
import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.elf.ElfClass;
import io.guestdump.elf.ElfData;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What the x86_64 plugin tells the framework for a kdump header and a live source (moved from core). */
class X86KdumpFactsTest {
    static final X86_64Architecture ARCH = X86_64GoldenNotesTest.defaultArch();
    static final DumpTarget LONG = X86DumpTargets.longMode();
    static final DumpTarget LEGACY = new DumpTarget(X86Elf.EM_386, ElfClass.ELF32, ElfData.LSB, 4096);

    @Test
    void utsMachineIsWhatUnameMPrints() {
        assertEquals("x86_64", ARCH.utsMachine(LONG));
        assertEquals("i686", ARCH.utsMachine(LEGACY));
        assertEquals("EM_X86_64", ARCH.elfMachineName(62));
        assertEquals("EM_386", ARCH.elfMachineName(3));
    }

    @Test
    void physBaseIsDecimalAndMayBeNegative() {
        assertEquals(-14680064L, ARCH.physBase(LONG,
                GuestVmcoreinfo.parse("OSRELEASE=x\nNUMBER(phys_base)=-14680064\n"), List.of()));
        assertEquals(0x4200000L, ARCH.physBase(LONG, GuestVmcoreinfo.parse("NUMBER(phys_base)=69206016\n"),
                List.of()), "QEMU reads this as 0x69206016");
        assertEquals(0, ARCH.physBase(LONG, GuestVmcoreinfo.parse("OSRELEASE=x\n"), List.of()));
        assertEquals(0, ARCH.physBase(LONG, GuestVmcoreinfo.empty(), List.of()));
        assertEquals(0, ARCH.physBase(LEGACY, GuestVmcoreinfo.parse("NUMBER(phys_base)=12345\n"), List.of()));
    }

    @Test
    void aMalformedPhysBaseNamesTheKeyAndTheText() {
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> ARCH.physBase(LONG, GuestVmcoreinfo.parse("NUMBER(phys_base)=12z\n"), List.of()));
        assertEquals(true, e.getMessage().contains("NUMBER(phys_base)=12z"), e.getMessage());
    }

    @Test
    void theGdbstubGivesKernelGsBase() {
        assertEquals(Map.of("k_gs_base", "kernel_gs_base"), ARCH.gdbstubRegisters("x86_64"));
    }
}
