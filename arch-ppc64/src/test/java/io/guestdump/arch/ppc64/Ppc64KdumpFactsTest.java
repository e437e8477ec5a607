package io.guestdump.arch.ppc64;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.guestdump.arch.api.DumpTarget;
import io.guestdump.arch.api.GuestVmcoreinfo;
import io.guestdump.elf.ElfClass;
import io.guestdump.elf.ElfData;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What the ppc64 plugin tells the framework for a kdump header (moved from core). */
class Ppc64KdumpFactsTest {
    @Test
    void utsMachineFollowsTheByteOrderAndPhysBaseIs0() {
        Ppc64Architecture arch = Ppc64Fixtures.arch();
        DumpTarget le = new DumpTarget(Ppc64Elf.EM_PPC64, ElfClass.ELF64, ElfData.LSB, 65536);
        DumpTarget be = new DumpTarget(Ppc64Elf.EM_PPC64, ElfClass.ELF64, ElfData.MSB, 65536);
        assertEquals("ppc64le", arch.utsMachine(le), "libkdumpfile's own architecture");
        assertEquals("ppc64", arch.utsMachine(be));
        assertEquals(0, arch.physBase(be, GuestVmcoreinfo.parse("NUMBER(phys_base)=12345\n"), List.of()));
        assertEquals("EM_PPC64", arch.elfMachineName(21));
    }
}
