package io.guestdump.arch.s390x;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.arch.api.VcpuState;
import io.guestdump.elf.ElfData;
import io.guestdump.elf.Note;
import io.guestdump.elf.NoteEncoder;
import io.guestdump.elf.NoteType;
import io.guestdump.testkit.GoldenFiles;
import java.io.IOException;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

/** decodeNotes: the inverse of the notes, for our dumps and QEMU's. */
class S390xDecodeNotesTest {
    private static final int MODES = 4;

    /**
     * How a generated vCPU gives its floating-point state: 0 vector registers only (as the monitor does with the
     * vector facility), 1 fN only (without it), 2 both, agreeing, 3 a random subset of every register.
     */
    static VcpuState generated(int index, long seed, int mode) {
        SplittableRandom r = new SplittableRandom(seed);
        VcpuState.Builder b = VcpuState.builder(index);
        for (String name : S390xRegisters.names()) {
            boolean fpr = name.matches("f\\d+");
            boolean low = name.matches("v(\\d|1[0-5])");
            boolean present = switch (mode) {
                case 0 -> !fpr;
                case 1 -> !low;
                case 2 -> true;
                default -> r.nextBoolean();
            };
            if (!present) {
                continue;
            }
            BigInteger v = new BigInteger(S390xRegisters.width(name), new Random(r.nextLong()));
            b.set(name, v);
        }
        VcpuState s = b.build();
        if (mode == 2 || mode == 3) { // make fN agree with vN where both are present
            Map<String, BigInteger> fix = new LinkedHashMap<>();
            for (int i = 0; i < 16; i++) {
                if (s.has("f" + i) && s.has("v" + i)) {
                    fix.put("f" + i, S390xRegisters.unsigned(S390xRegisters.leftDoubleword(s.value("v" + i))));
                }
            }
            s = s.with(fix);
        }
        return s;
    }

    /** What reading back must give for a register: f/v merged, everything else as given, absent as 0. */
    static BigInteger expected(VcpuState s, String name) {
        if (name.matches("f\\d+")) {
            return S390xRegisters.unsigned(S390xRegisters.fprValue(s, Integer.parseInt(name.substring(1))));
        }
        if (name.matches("v(\\d|1[0-5])")) {
            int n = Integer.parseInt(name.substring(1));
            return S390xRegisters.vector(S390xRegisters.fprValue(s, n), s.value(name).longValue());
        }
        return s.value(name);
    }

    @Test
    void decodeInvertsTheNotesForEveryRegister() {
        AtomicIntegerArray seen = new AtomicIntegerArray(MODES);
        qt().forAll(longs().all(), integers().between(0, MODES - 1), integers().between(1, 3))
                .checkAssert((seed, mode, count) -> {
                    seen.incrementAndGet(mode);
                    List<VcpuState> cpus = new ArrayList<>();
                    for (int i = 0; i < count; i++) {
                        cpus.add(generated(i, seed + i, mode));
                    }
                    List<VcpuState> back = S390xFixtures.arch().decodeNotes(
                            S390xFixtures.notes(cpus), S390xFixtures.target());
                    assertEquals(count, back.size());
                    for (int i = 0; i < count; i++) {
                        assertEquals(i, back.get(i).index());
                        assertEquals(S390xRegisters.names(), List.copyOf(back.get(i).registers().keySet()),
                                "every register, canonical order");
                        for (String name : S390xRegisters.names()) {
                            assertEquals(expected(cpus.get(i), name), back.get(i).value(name),
                                    "vCPU " + i + " " + name + " (mode " + mode + ")");
                        }
                    }
                });
        for (int m = 0; m < MODES; m++) {
            assertTrue(seen.get(m) > 0, "generator never produced mode " + m);
        }
    }

    @Test
    void decodeThroughTheEncodedSegmentToo() {
        List<VcpuState> cpus = List.of(generated(0, 1, 0), generated(1, 2, 1));
        byte[] segment = S390xFixtures.segment(cpus);
        List<VcpuState> back = S390xFixtures.arch()
                .decodeNotes(NoteEncoder.decode(segment, ElfData.MSB), S390xFixtures.target());
        assertEquals(cpus.get(0).value("v17"), back.get(0).value("v17"));
        assertEquals(cpus.get(1).value("f4"), back.get(1).value("f4"));
        // re-encoding what we decoded gives the same bytes
        assertEquals(HexFormat.of().formatHex(segment),
                HexFormat.of().formatHex(S390xFixtures.segment(back)));
    }

    @Test
    void qemuDumpDecodesWithIndexesFromFilePositionDespiteLittleEndianPid() throws IOException {
        byte[] qemu = S390xFixtures.ptNote(GoldenFiles.require("s390x", "qemu-filter-odd.elf"));
        List<VcpuState> cpus = S390xFixtures.arch()
                .decodeNotes(NoteEncoder.decode(qemu, ElfData.MSB), S390xFixtures.target());
        assertEquals(2, cpus.size());
        // QEMU 7.2's pr_pid reads 0x01000000 / 0x02000000 big-endian; the index comes from the position
        assertEquals(0, cpus.get(0).index());
        assertEquals(1, cpus.get(1).index());
        VcpuState c0 = cpus.get(0);
        VcpuState c1 = cpus.get(1);
        assertEquals(0x0704c00180000000L, c0.u64("psw.mask"));
        assertEquals(0x199062L, c0.u64("psw.addr"));
        assertEquals(0x37fffd03d60L, c0.u64("r15"));
        assertEquals(0x019b4000L, c0.u64("prefix"));
        assertEquals(0x019b6000L, c1.u64("prefix"));
        assertEquals(0x1f400000734c98e1L, c0.u64("cpu_timer"));
        assertEquals(0xe3a55406947a931cL, c0.u64("clock_comparator"));
        assertEquals(1, c1.u64("todpr"));
        assertEquals(0xdb000000L, c0.u64("c14"));
        assertEquals(new BigInteger("000003ff000000060000000000000000", 16), c0.value("v1"));
        assertEquals(0x000003ff00000006L, c0.u64("f1"));
        assertEquals(new BigInteger("0f0e0d0c0b0a09080706050403020100", 16), c0.value("v20"));
        assertEquals(new BigInteger("81880000000000000000000000000000", 16), c1.value("v17"));
    }

    @Test
    void s390NotesUnderOwnerCoreAreAcceptedAsOldQemuWroteThem() {
        List<Note> notes = new ArrayList<>();
        for (Note n : S390xFixtures.notes(List.of(generated(0, 7, 2)))) {
            notes.add(new Note("CORE", n.type(), n.desc()));
        }
        VcpuState back = S390xFixtures.arch().decodeNotes(notes, S390xFixtures.target()).get(0);
        assertEquals(generated(0, 7, 2).value("prefix"), back.value("prefix"));
        assertEquals(generated(0, 7, 2).value("v31"), back.value("v31"));
    }

    @Test
    void unknownNotesAreSkipped() {
        List<Note> notes = new ArrayList<>(S390xFixtures.notes(List.of(generated(0, 3, 0))));
        notes.add(new Note("LINUX", 0x30e, new byte[24])); // NT_S390_PV_CPU_DATA
        notes.add(new Note("QEMU", NoteType.NT_QEMU_CPU_STATE, new byte[8]));
        assertEquals(1, S390xFixtures.arch().decodeNotes(notes, S390xFixtures.target()).size());
    }

    @Test
    void missingNotesLeaveTheirRegistersOut() {
        List<Note> notes = S390xFixtures.notes(List.of(generated(0, 3, 0))).subList(0, 2);
        VcpuState back = S390xFixtures.arch().decodeNotes(notes, S390xFixtures.target()).get(0);
        assertTrue(back.has("r0") && back.has("f0"));
        assertTrue(!back.has("v0") && !back.has("prefix"));
    }

    @Test
    void wrongDescriptorSizeIsRefusedWithTheNoteNamed() {
        List<Note> notes = new ArrayList<>(S390xFixtures.notes(List.of(generated(0, 3, 0))));
        notes.set(3, new Note("LINUX", S390xElf.NT_S390_CTRS, new byte[64]));
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> S390xFixtures.arch().decodeNotes(notes, S390xFixtures.target()));
        assertTrue(e.getMessage().contains("note #3 (LINUX type 0x304) has n_descsz=64"), e.getMessage());
        assertTrue(e.getMessage().contains("128"), e.getMessage());
    }

    @Test
    void noteBeforeTheFirstPrstatusIsRefused() {
        List<Note> notes = new ArrayList<>(S390xFixtures.notes(List.of(generated(0, 3, 0))));
        notes.add(0, notes.remove(2));
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> S390xFixtures.arch().decodeNotes(notes, S390xFixtures.target()));
        assertTrue(e.getMessage().contains("type 0x305) comes before the first CORE type 1 note"),
                e.getMessage());
    }

    @Test
    void duplicateNoteWithinOneVcpuIsRefused() {
        List<Note> notes = new ArrayList<>(S390xFixtures.notes(List.of(generated(0, 3, 0))));
        notes.add(notes.get(4));
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> S390xFixtures.arch().decodeNotes(notes, S390xFixtures.target()));
        assertTrue(e.getMessage().contains("type 0x301) appears twice for vCPU 0"), e.getMessage());
    }
}
