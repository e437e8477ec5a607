package io.guestdump.arch.ppc64;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.guestdump.arch.api.CpuNote;
import io.guestdump.arch.api.DumpTarget;
import io.guestdump.arch.api.GuestState;
import io.guestdump.arch.api.VcpuState;
import io.guestdump.core.notes.NoteSegmentBuilder;
import io.guestdump.elf.ElfClass;
import io.guestdump.elf.ElfData;
import io.guestdump.elf.Note;
import io.guestdump.elf.NoteEncoder;
import io.guestdump.elf.NoteHeader;
import io.guestdump.testkit.Bytes;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Compares with QEMU 7.2's own dump of the paused ppc64le pseries guest ({@code qemu-filter-odd.elf}, no
 * VMCOREINFO) and its {@code info registers -a} text.
 */
class Ppc64GoldenTest {
    /** Where the NT_PRSTATUS descriptor starts inside a CORE note: header + "CORE\0" padded to 8. */
    private static final int PRSTATUS_DESC_IN_NOTE = NoteHeader.SIZE + 8;

    @Test
    void describeReadsLpcrIleSoTheGoldenGuestIsLittleEndianWith64KiBPages() throws IOException {
        List<VcpuState> cpus = Ppc64Fixtures.arch().parseMonitorRegisters(Ppc64Fixtures.goldenRegistersText(), "golden");
        for (Map<String, String> props : List.of(Map.of("machine-type", "pseries-7.2"), Map.<String, String>of())) {
            DumpTarget target = Ppc64Fixtures.arch().describe(Ppc64Fixtures.guest(cpus, props));
            assertEquals(new DumpTarget(Ppc64Elf.EM_PPC64, ElfClass.ELF64, ElfData.LSB, 65536), target, props.toString());
        }
        // QEMU 7.2 read HID0[HILE] (0 here) instead: that is the big-endian file it wrote
        assertEquals(0, cpus.get(0).u64("hid0"));
        assertEquals(0x3d3f408L, cpus.get(0).u64("lpcr"));
    }

    /**
     * Byte equality with QEMU's PT_NOTE when configured as QEMU (byte-order = big, vector-note-owner = CORE).
     * The monitor text has no vector state (VR, VSCR, VSX low halves): those registers are taken from QEMU's own
     * notes, as a snapshot would supply them. Deliberate differences, patched into QEMU's bytes and shown here:
     * pr_pid (QEMU 7.2 wrote 0, we write index + 1) and the pt_regs dar/dsisr slots (QEMU leaves 0, we write the
     * vCPU's DAR and DSISR).
     */
    @Test
    void notesEqualQemu72ExceptPrPidAndDarDsisr() throws IOException {
        Ppc64Architecture arch = Ppc64Fixtures.qemu72();
        byte[] golden = Ppc64Fixtures.goldenNoteSegment();
        List<VcpuState> parsed = arch.parseMonitorRegisters(Ppc64Fixtures.goldenRegistersText(), "golden");
        DumpTarget target = arch.describe(Ppc64Fixtures.guest(parsed, Map.of("machine-type", "pseries-7.2")));
        assertEquals(ElfData.MSB, target.data());
        List<VcpuState> qemuDecoded = arch.decodeNotes(NoteEncoder.decode(golden, ElfData.MSB), target);

        List<VcpuState> cpus = new ArrayList<>();
        for (int i = 0; i < parsed.size(); i++) {
            cpus.add(parsed.get(i).with(vectorState(qemuDecoded.get(i))));
        }
        GuestState guest = Ppc64Fixtures.guest(cpus, Map.of("machine-type", "pseries-7.2"));
        List<CpuNote> table = arch.cpuNotes(guest, target);
        byte[] ours = NoteEncoder.encode(NoteSegmentBuilder.build(table, cpus, target, null, List.of()), target.data());

        byte[] expected = golden.clone();
        ByteBuffer patch = ElfData.MSB.wrap(expected);
        long stride = 0;
        for (CpuNote row : table) {
            stride += Note.encodedSize(row.owner(), row.descSize());
        }
        for (VcpuState cpu : cpus) {
            int desc = Math.toIntExact(cpu.index() * stride + PRSTATUS_DESC_IN_NOTE);
            // what QEMU 7.2 wrote
            assertEquals(0, patch.getInt(desc + Ppc64PrStatus.PID_OFFSET), "QEMU 7.2 pr_pid");
            assertEquals(0, patch.getLong(desc + Ppc64PrStatus.offsetOf("dar")), "QEMU pt_regs.dar");
            assertEquals(0, patch.getLong(desc + Ppc64PrStatus.offsetOf("dsisr")), "QEMU pt_regs.dsisr");
            // what we write instead
            patch.putInt(desc + Ppc64PrStatus.PID_OFFSET, cpu.index() + 1);
            patch.putLong(desc + Ppc64PrStatus.offsetOf("dar"), cpu.u64("dar"));
            patch.putLong(desc + Ppc64PrStatus.offsetOf("dsisr"), cpu.u64("dsisr"));
        }
        assertEquals(0x4566268cL, cpus.get(0).u64("dar"));
        Bytes.assertSameBytes(expected, ours, "PT_NOTE of qemu-filter-odd.elf (pr_pid, dar, dsisr patched)");
    }

    /** QEMU's file decodes, and re-encodes byte for byte under QEMU's settings, pr_pid aside. */
    @Test
    void qemuOwnNotesDecodeAndReencodeIdentically() throws IOException {
        Ppc64Architecture arch = Ppc64Fixtures.qemu72();
        byte[] golden = Ppc64Fixtures.goldenNoteSegment();
        DumpTarget target = new DumpTarget(Ppc64Elf.EM_PPC64, ElfClass.ELF64, ElfData.MSB, 65536);
        List<VcpuState> cpus = arch.decodeNotes(NoteEncoder.decode(golden, ElfData.MSB), target);
        assertEquals(2, cpus.size());
        assertEquals(List.of(0, 1), cpus.stream().map(VcpuState::index).toList());
        assertEquals(0xc0000000000e1130L, cpus.get(1).u64("nip"));
        assertEquals(new BigInteger("80808080808080808080808080808080", 16), cpus.get(0).value("vr1"));

        GuestState guest = Ppc64Fixtures.guest(cpus, Map.of());
        byte[] again = NoteEncoder.encode(
                NoteSegmentBuilder.build(arch.cpuNotes(guest, target), cpus, target, null, List.of()), ElfData.MSB);
        byte[] expected = golden.clone();
        ByteBuffer patch = ElfData.MSB.wrap(expected);
        for (VcpuState cpu : cpus) {
            patch.putInt(cpu.index() * 1808 + PRSTATUS_DESC_IN_NOTE + Ppc64PrStatus.PID_OFFSET, cpu.index() + 1);
        }
        Bytes.assertSameBytes(expected, again, "re-encoded QEMU notes (pr_pid patched)");
    }

    /** Every register the monitor text and QEMU's notes both carry agrees, except the pt_regs dar/dsisr slots. */
    @Test
    void monitorTextAgreesWithQemuNotes() throws IOException {
        Ppc64Architecture arch = Ppc64Fixtures.arch();
        List<VcpuState> parsed = arch.parseMonitorRegisters(Ppc64Fixtures.goldenRegistersText(), "golden");
        DumpTarget target = new DumpTarget(Ppc64Elf.EM_PPC64, ElfClass.ELF64, ElfData.MSB, 65536);
        List<VcpuState> decoded = arch.decodeNotes(NoteEncoder.decode(Ppc64Fixtures.goldenNoteSegment(), ElfData.MSB),
                target);
        assertEquals(parsed.size(), decoded.size());
        int compared = 0;
        for (int i = 0; i < parsed.size(); i++) {
            for (Map.Entry<String, BigInteger> e : parsed.get(i).registers().entrySet()) {
                String name = e.getKey();
                // lpcr is in no note: the decoder infers only its ILE bit (from MSR[LE]), checked below
                if (decoded.get(i).has(name) && !name.equals("dar") && !name.equals("dsisr")
                        && !name.equals("lpcr")) {
                    assertEquals(e.getValue(), decoded.get(i).value(name), "CPU#" + i + " " + name);
                    compared++;
                }
            }
        }
        assertTrue(compared >= 2 * (32 + 32 + 7), "compared " + compared + " registers");
        for (int i = 0; i < parsed.size(); i++) {
            assertEquals(parsed.get(i).u64("lpcr") & Ppc64InterruptEndian.LPCR_ILE,
                    decoded.get(i).u64("lpcr") & Ppc64InterruptEndian.LPCR_ILE, "CPU#" + i + " LPCR[ILE] inferred");
        }
    }

    private static Map<String, BigInteger> vectorState(VcpuState fromQemu) {
        Map<String, BigInteger> vector = new HashMap<>();
        for (String name : Ppc64Registers.VRS) {
            vector.put(name, fromQemu.value(name));
        }
        for (String name : Ppc64Registers.VSRLS) {
            vector.put(name, fromQemu.value(name));
        }
        vector.put(Ppc64Registers.VSCR, fromQemu.value(Ppc64Registers.VSCR));
        return vector;
    }
}
