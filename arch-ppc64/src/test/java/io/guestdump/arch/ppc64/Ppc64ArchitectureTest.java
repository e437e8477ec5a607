package io.guestdump.arch.ppc64;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValue;
import io.guestdump.arch.api.CpuNote;
import io.guestdump.arch.api.DumpTarget;
import io.guestdump.arch.api.GuestState;
import io.guestdump.arch.api.NoteGroup;
import io.guestdump.arch.api.UnsupportedGuestException;
import io.guestdump.arch.api.VcpuState;
import io.guestdump.core.notes.NoteSegmentBuilder;
import io.guestdump.elf.ElfClass;
import io.guestdump.elf.ElfData;
import io.guestdump.elf.Note;
import io.guestdump.elf.NoteType;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** describe(), the note table and the settings. */
class Ppc64ArchitectureTest {
    private static final long LE_LPCR = 0x3d3f408L;
    private static final long MSR_PSERIES = 0x800000000280b033L;

    private static GuestState guest(String machineType, VcpuState cpu) {
        return Ppc64Fixtures.guest(List.of(cpu), machineType == null ? Map.of() : Map.of("machine-type", machineType));
    }

    private static VcpuState cpu(long msr, long lpcr, long hid0, long pvr) {
        return VcpuState.builder(0).set("msr", msr).set("lpcr", lpcr).set("hid0", hid0).set("pvr", pvr).build();
    }

    @Test
    void identity() {
        Ppc64Architecture arch = Ppc64Fixtures.arch();
        assertEquals("ppc64", arch.id());
        assertEquals(java.util.Set.of("ppc64"), arch.machines());
        assertEquals(java.util.Set.of(Ppc64Elf.EM_PPC64), arch.elfMachines());
        assertEquals("ppc64", arch.machineFor(new DumpTarget(Ppc64Elf.EM_PPC64, ElfClass.ELF64, ElfData.LSB, 4096)));
        assertTrue(arch.registerNames("ppc64").containsAll(List.of("gpr0", "gpr31", "nip", "msr", "lr", "ctr", "xer",
                "cr", "lpcr", "hid0", "fpr0", "fpscr", "vr31", "vscr", "vrsave", "vsrl0", "softe", "trap", "dar",
                "dsisr", "orig_gpr3", "result", "spe_acc", "spefscr", "pvr", "srr0", "tb", "decr")));
        assertFalse(arch.registerNames("ppc64").contains("r0"));
    }

    @Test
    void pseriesByteOrderIsLpcrIleNotHid0NorMsrLe() {
        Ppc64Architecture arch = Ppc64Fixtures.arch();
        assertEquals(ElfData.LSB, arch.describe(guest("pseries-7.2", cpu(MSR_PSERIES, LE_LPCR, 0, 0x4e1200))).data());
        // LPCR[ILE] = 1 << 25 alone decides; bit 17, also set in the golden LPCR, does not
        assertEquals(ElfData.LSB, arch.describe(guest("pseries", cpu(0, 1L << 25, 0, 0))).data());
        assertEquals(ElfData.MSB, arch.describe(guest("pseries", cpu(1, 1L << 17, -1L, 0))).data());
        // MSR[HV] is not honoured on pseries: the guest never runs in hypervisor state there
        assertEquals(ElfData.LSB, arch.describe(guest("pseries", cpu(1L << 60, LE_LPCR, 0, 0x4e1200))).data());
    }

    @Test
    void hypervisorStateReadsHid0HileWhoseBitDependsOnTheIsa() {
        Ppc64Architecture arch = Ppc64Fixtures.arch();
        long hv = 1L << 60;
        long power9 = 0x004e1200L;
        long power8 = 0x004d0200L;
        assertEquals(ElfData.LSB, arch.describe(guest("powernv9", cpu(hv, 0, 1L << 59, power9))).data());
        assertEquals(ElfData.MSB, arch.describe(guest("powernv9", cpu(hv, LE_LPCR, 1L << 44, power9))).data());
        assertEquals(ElfData.LSB, arch.describe(guest("powernv8", cpu(hv, 0, 1L << 44, power8))).data());
        assertEquals(ElfData.MSB, arch.describe(guest("powernv8", cpu(hv, 0, 1L << 59, power8))).data());
        // no PVR: ISA 3.00 assumed
        VcpuState noPvr = VcpuState.builder(0).set("msr", hv).set("hid0", 1L << 59).build();
        assertEquals(ElfData.LSB, arch.describe(guest("powernv", noPvr)).data());
    }

    @Test
    void outsideHypervisorStateLpcrThenMsrIleDecide() {
        Ppc64Architecture arch = Ppc64Fixtures.arch();
        assertEquals(ElfData.LSB, arch.describe(guest("powernv9", cpu(0, LE_LPCR, 0, 0x4e1200))).data());
        VcpuState noLpcr = VcpuState.builder(0).set("msr", 1L << 16).build();
        assertEquals(ElfData.LSB, arch.describe(guest("mac99", noLpcr)).data());
        assertEquals(ElfData.MSB, arch.describe(guest("mac99", VcpuState.builder(0).build())).data());
    }

    @Test
    void pageSizeIs64KiBOnPseriesOnlyAndTheDefaultMachineTypeComesFromConfig() {
        VcpuState cpu = cpu(MSR_PSERIES, LE_LPCR, 0, 0);
        Ppc64Architecture arch = Ppc64Fixtures.arch();
        assertEquals(65536, arch.describe(guest("pseries-7.2", cpu)).pageSize());
        assertEquals(65536, arch.describe(guest(null, cpu)).pageSize());
        assertEquals(4096, arch.describe(guest("powernv9", cpu)).pageSize());
        assertEquals(4096, Ppc64Fixtures.arch("default-machine-type = powernv9").describe(guest(null, cpu)).pageSize());
        assertEquals(65536, Ppc64Fixtures.arch("default-machine-type = powernv9")
                .describe(guest("pseries", cpu)).pageSize());
        DumpTarget target = arch.describe(guest(null, cpu));
        assertEquals(Ppc64Elf.EM_PPC64, target.machine());
        assertEquals(ElfClass.ELF64, target.elfClass());
    }

    @Test
    void byteOrderSettingForcesTheOrder() {
        VcpuState le = cpu(MSR_PSERIES, LE_LPCR, 0, 0);
        assertEquals(ElfData.MSB, Ppc64Fixtures.arch("byte-order = big").describe(guest(null, le)).data());
        assertEquals(ElfData.LSB, Ppc64Fixtures.arch("byte-order = little")
                .describe(guest(null, cpu(0, 0, 0, 0))).data());
        assertEquals(ElfData.LSB, Ppc64Fixtures.arch("byte-order = auto").describe(guest(null, le)).data());
    }

    @Test
    void aGuestWithoutVcpuIsRefused() {
        GuestState none = Ppc64Fixtures.guest(List.of(), Map.of());
        assertThrows(UnsupportedGuestException.class, () -> Ppc64Fixtures.arch().describe(none));
    }

    @Test
    void noteTableIsQemusFiveNotesWithTheConfiguredVectorOwner() {
        GuestState guest = guest(null, cpu(MSR_PSERIES, LE_LPCR, 0, 0));
        DumpTarget target = Ppc64Fixtures.arch().describe(guest);
        List<CpuNote> linux = Ppc64Fixtures.arch().cpuNotes(guest, target);
        assertEquals(List.of(NoteType.NT_PRSTATUS, NoteType.NT_PRFPREG, Ppc64Elf.NT_PPC_VMX, Ppc64Elf.NT_PPC_VSX,
                Ppc64Elf.NT_PPC_SPE), linux.stream().map(CpuNote::type).toList());
        assertEquals(List.of(504, 264, 544, 256, 140), linux.stream().map(CpuNote::descSize).toList());
        assertEquals(List.of("CORE", "CORE", "LINUX", "LINUX", "LINUX"), linux.stream().map(CpuNote::owner).toList());
        assertTrue(linux.stream().allMatch(n -> n.group() == NoteGroup.ARCH));

        Ppc64Architecture qemuNaming = Ppc64Fixtures.arch("vector-note-owner = CORE");
        List<Note> notes = NoteSegmentBuilder.build(qemuNaming.cpuNotes(guest, target), guest.cpus(), target, null,
                List.of());
        assertEquals(List.of("CORE", "CORE", "CORE", "CORE", "CORE"), notes.stream().map(Note::owner).toList());
        List<Note> linuxNotes = NoteSegmentBuilder.build(linux, guest.cpus(), target, null, List.of());
        // same descriptors, only the owner differs
        for (int i = 0; i < notes.size(); i++) {
            assertEquals(new Note(linuxNotes.get(i).owner(), notes.get(i).type(), notes.get(i).desc()),
                    linuxNotes.get(i));
        }
        // the owner changes the encoded size: "LINUX\0" pads to 8 like "CORE\0", so it does not
        assertEquals(Note.encodedSize("CORE", 544), Note.encodedSize("LINUX", 544));
    }

    @Test
    void badSettingsAreRefusedNamingTheKey() {
        ConfigException order = assertThrows(ConfigException.class, () -> Ppc64Fixtures.arch("byte-order = middle"));
        assertTrue(order.getMessage().contains("byte-order") && order.getMessage().contains("auto, big or little"),
                order.getMessage());
        ConfigException owner = assertThrows(ConfigException.class,
                () -> Ppc64Fixtures.arch("vector-note-owner = QEMU"));
        assertTrue(owner.getMessage().contains("vector-note-owner"), owner.getMessage());
        ConfigException type = assertThrows(ConfigException.class,
                () -> Ppc64Fixtures.arch("default-machine-type = \"\""));
        assertTrue(type.getMessage().contains("default-machine-type"), type.getMessage());
    }

    /** Every key of reference.conf loads, has a comment above it, and is read by the settings. */
    @Test
    void referenceConfLoadsAndDocumentsEveryKey() {
        Config all = ConfigFactory.parseResources("reference.conf");
        assertTrue(all.hasPath("guestdump.arch.ppc64"), "reference.conf has guestdump.arch.ppc64");
        Config ppc64 = all.getConfig("guestdump.arch.ppc64");
        assertEquals(java.util.Set.of(Ppc64Settings.DEFAULT_MACHINE_TYPE, Ppc64Settings.BYTE_ORDER,
                Ppc64Settings.VECTOR_NOTE_OWNER), ppc64.root().keySet());
        for (Map.Entry<String, ConfigValue> e : ppc64.entrySet()) {
            assertFalse(e.getValue().origin().comments().isEmpty(), "no comment above " + e.getKey());
        }
        Ppc64Settings defaults = Ppc64Settings.from(ppc64);
        assertEquals(new Ppc64Settings("pseries", Ppc64Settings.ByteOrderChoice.AUTO, "LINUX"), defaults);
        assertEquals(defaults, Ppc64Fixtures.arch().settings());
    }
}
