package io.guestdump.arch.s390x;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.guestdump.arch.api.CpuNote;
import io.guestdump.arch.api.DumpTarget;
import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.arch.api.NoteGroup;
import io.guestdump.arch.api.VcpuState;
import io.guestdump.elf.ElfClass;
import io.guestdump.elf.ElfData;
import io.guestdump.elf.Note;
import java.math.BigInteger;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.pf4j.Extension;

/** Identity, dump target, note table and the checks made before any note is written. */
class S390xArchitectureTest {
    private final S390xArchitecture arch = S390xFixtures.arch();

    @Test
    void identity() {
        assertEquals("s390x", arch.id());
        assertEquals(Set.of("s390x"), arch.machines());
        assertEquals(Set.of(S390xElf.EM_S390), arch.elfMachines());
        assertEquals("s390x", arch.machineFor(S390xFixtures.target()));
        assertTrue(S390xArchitecture.class.isAnnotationPresent(Extension.class));
        assertTrue(arch.pageTableWalker().isPresent());
    }

    @Test
    void targetIsAlwaysElf64BigEndianEmS390With4KiBPages() {
        DumpTarget t = arch.describe(S390xFixtures.guest(List.of(VcpuState.builder(0).build())));
        assertEquals(new DumpTarget(S390xElf.EM_S390, ElfClass.ELF64, ElfData.MSB, 4096), t);
        assertEquals(t, arch.describe(S390xFixtures.guest(List.of())));
    }

    @Test
    void noteTableIsQemusTenArchNotes() {
        List<CpuNote> table = arch.cpuNotes(S390xFixtures.guest(List.of()), S390xFixtures.target());
        assertEquals(10, table.size());
        long perCpu = 0;
        for (CpuNote n : table) {
            assertEquals(NoteGroup.ARCH, n.group());
            perCpu += Note.encodedSize(n.owner(), n.descSize());
        }
        assertEquals(S390xFixtures.NOTES_PER_CPU_BYTES, perCpu, "reference §2.2: 1240 bytes per vCPU");
    }

    @Test
    void registerNamesAreTheCanonicalList() {
        Set<String> names = arch.registerNames("s390x");
        // psw 2, r 16, a 16, fpc, f 16, v 32, c 16, prefix, cpu_timer, clock_comparator, todpr, gscb 4
        assertEquals(2 + 16 + 16 + 1 + 16 + 32 + 16 + 4 + 4, names.size());
        for (String n : List.of("psw.mask", "psw.addr", "r15", "a15", "fpc", "f15", "v31", "c15", "prefix",
                "cpu_timer", "clock_comparator", "todpr", "gscb3")) {
            assertTrue(names.contains(n), n);
        }
        assertEquals(S390xRegisters.names(), List.copyOf(names));
    }

    @Test
    void referenceConfHasTheSubtree() {
        assertTrue(ConfigFactory.defaultReference().hasPathOrNull("guestdump.arch.s390x"));
    }

    @Test
    void disagreeingFprAndVectorAreRefusedBeforeWriting() {
        VcpuState cpu = VcpuState.builder(3)
                .set("v2", new BigInteger("11111111111111112222222222222222", 16))
                .set("f2", 0x1111111111111112L)
                .build();
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> arch.cpuNotes(S390xFixtures.guest(List.of(cpu)), S390xFixtures.target()));
        assertTrue(e.getMessage().contains("vCPU 3: f2 = 0x1111111111111112 but the leftmost doubleword of v2"),
                e.getMessage());
    }

    @Test
    void agreeingFprAndVectorAreFine() {
        VcpuState cpu = VcpuState.builder(0)
                .set("v2", new BigInteger("11111111111111112222222222222222", 16))
                .set("f2", 0x1111111111111111L)
                .build();
        assertEquals(10, arch.cpuNotes(S390xFixtures.guest(List.of(cpu)), S390xFixtures.target()).size());
    }

    @Test
    void valueWiderThanItsRegisterIsRefused() {
        VcpuState cpu = VcpuState.builder(0).set("prefix", 0x1_0000_0000L).build();
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> arch.cpuNotes(S390xFixtures.guest(List.of(cpu)), S390xFixtures.target()));
        assertTrue(e.getMessage().contains("prefix = 0x100000000 does not fit its 32 bits"), e.getMessage());
    }

    @Test
    void unknownNamesAreLeftToTheFramework() {
        VcpuState cpu = VcpuState.builder(0).set("eax", BigInteger.TWO.pow(200)).build();
        assertEquals(10, arch.cpuNotes(S390xFixtures.guest(List.of(cpu)), S390xFixtures.target()).size());
    }
}
