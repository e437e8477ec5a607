package io.guestdump.arch.s390x;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.guestdump.arch.api.GuestVmcoreinfo;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What the s390x plugin tells the framework for a kdump header (moved from core). */
class S390xKdumpFactsTest {
    @Test
    void lowerCaseS390xAndPhysBase0() {
        S390xArchitecture arch = S390xFixtures.arch();
        assertEquals("s390x", arch.utsMachine(S390xFixtures.target()),
                "lower case: crash compares case-sensitively (QEMU writes S390X)");
        assertEquals(0, arch.physBase(S390xFixtures.target(),
                GuestVmcoreinfo.parse("NUMBER(phys_base)=12345\n"), List.of()));
        assertEquals("EM_S390", arch.elfMachineName(22));
    }
}
