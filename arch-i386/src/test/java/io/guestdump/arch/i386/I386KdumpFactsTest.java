package io.guestdump.arch.i386;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.guestdump.arch.api.DumpTarget;
import io.guestdump.arch.api.GuestVmcoreinfo;
import io.guestdump.arch.x86_64.X86Elf;
import io.guestdump.elf.ElfClass;
import io.guestdump.elf.ElfData;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What the i386 plugin tells the framework for a kdump header (moved from core). */
class I386KdumpFactsTest {
    @Test
    void i686AndPhysBase0() {
        I386Architecture arch = I386GoldenNotesTest.defaultArch();
        DumpTarget t = new DumpTarget(X86Elf.EM_386, ElfClass.ELF64, ElfData.LSB, 4096);
        assertEquals("i686", arch.utsMachine(t));
        assertEquals(0, arch.physBase(t, GuestVmcoreinfo.parse("NUMBER(phys_base)=12345\n"), List.of()));
        assertEquals("EM_386", arch.elfMachineName(3));
    }
}
