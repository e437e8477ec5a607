package io.guestdump.arch.ppc64;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.quicktheories.QuickTheory.qt;

import io.guestdump.arch.api.DumpTarget;
import io.guestdump.arch.api.GuestState;
import io.guestdump.arch.api.VcpuState;
import io.guestdump.core.notes.NoteSegmentBuilder;
import io.guestdump.elf.ElfClass;
import io.guestdump.elf.ElfData;
import io.guestdump.elf.Note;
import io.guestdump.elf.NoteEncoder;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.quicktheories.core.Gen;
import org.quicktheories.generators.SourceDSL;

/** decodeNotes(encode(notes(cpus))) gives the registers back, in both byte orders and with either owner. */
class Ppc64RoundTripTest {
    /** Registers the notes carry; the rest (SPRs from the monitor, tb, ...) are not in any note. */
    private static final List<String> CARRIED = carried();
    private static final Set<String> THIRTY_TWO_BIT = Set.of("cr", "vscr", "vrsave", "spefscr");

    private static List<String> carried() {
        List<String> names = new ArrayList<>(Ppc64PrStatus.REGS);
        names.addAll(Ppc64Registers.FPRS);
        names.add("fpscr");
        names.addAll(Ppc64Registers.VRS);
        names.addAll(List.of("vscr", "vrsave"));
        names.addAll(Ppc64Registers.VSRLS);
        names.addAll(List.of("spe_acc", "spefscr"));
        return List.copyOf(names);
    }

    /** CPUs with every carried register random, full width, from one seed. */
    private static Gen<List<VcpuState>> cpus() {
        return SourceDSL.integers().between(1, 4).zip(SourceDSL.longs().all(), (count, seed) -> {
            Random random = new Random(seed);
            List<VcpuState> cpus = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                VcpuState.Builder b = VcpuState.builder(i);
                for (String name : CARRIED) {
                    int bits = name.startsWith("vr") && !name.equals("vrsave") ? 128
                            : THIRTY_TWO_BIT.contains(name) ? 32 : 64;
                    b.set(name, new BigInteger(bits, random));
                }
                cpus.add(b.build());
            }
            return cpus;
        });
    }

    private static List<VcpuState> roundTrip(List<VcpuState> cpus, ElfData data, String owner) {
        Ppc64Architecture arch = Ppc64Fixtures.arch("vector-note-owner = " + owner);
        DumpTarget target = new DumpTarget(Ppc64Elf.EM_PPC64, ElfClass.ELF64, data, 65536);
        GuestState guest = Ppc64Fixtures.guest(cpus, Map.of());
        List<Note> notes = NoteSegmentBuilder.build(arch.cpuNotes(guest, target), cpus, target, null, List.of());
        byte[] segment = NoteEncoder.encode(notes, data);
        assertEquals(cpus.size() * 1808L, segment.length);
        return arch.decodeNotes(NoteEncoder.decode(segment, data), target);
    }

    @Test
    void registersSurviveNotesInBothByteOrdersAndOwners() {
        qt().forAll(cpus(), SourceDSL.arbitrary().enumValues(ElfData.class),
                        SourceDSL.arbitrary().pick("LINUX", "CORE"))
                .checkAssert((cpus, data, owner) -> {
                    List<VcpuState> back = roundTrip(cpus, data, owner);
                    assertEquals(cpus.size(), back.size());
                    for (int i = 0; i < cpus.size(); i++) {
                        assertEquals(i, back.get(i).index());
                        for (String name : CARRIED) {
                            assertEquals(cpus.get(i).value(name), back.get(i).value(name),
                                    data + " " + owner + " CPU#" + i + " " + name);
                        }
                    }
                });
    }

    @Test
    void goldenMonitorRegistersSurviveInBothByteOrders() throws Exception {
        List<VcpuState> parsed =
                Ppc64Fixtures.arch().parseMonitorRegisters(Ppc64Fixtures.goldenRegistersText(), "golden");
        for (ElfData data : ElfData.values()) {
            List<VcpuState> back = roundTrip(parsed, data, "LINUX");
            for (int i = 0; i < parsed.size(); i++) {
                for (String name : CARRIED) {
                    assertEquals(parsed.get(i).value(name), back.get(i).value(name), data + " CPU#" + i + " " + name);
                }
            }
        }
    }
}
