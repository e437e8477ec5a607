package io.guestdump.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.guestdump.arch.api.ArchitectureSupport;
import io.guestdump.arch.api.CpuNote;
import io.guestdump.arch.api.DumpTarget;
import io.guestdump.arch.api.GuestState;
import io.guestdump.arch.api.PrStatus;
import io.guestdump.arch.api.VcpuState;
import io.guestdump.elf.ElfClass;
import io.guestdump.elf.ElfData;
import io.guestdump.elf.Note;
import io.guestdump.elf.NoteEncoder;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The contract kit passes a plugin that keeps the contract and names each way one can break it. */
class PluginContractTest {
    static final PrStatus FRAME = PrStatus.uniform(ElfClass.ELF64, 8, List.of("pc", "sp"));

    /** A toy plugin: a two-slot prstatus, monitor lines {@code pc=… sp=…}. */
    static class Toy implements ArchitectureSupport {
        final String id;
        final boolean dropLastCpu;
        final boolean sloppyReader;

        Toy(String id, boolean dropLastCpu, boolean sloppyReader) {
            this.id = id;
            this.dropLastCpu = dropLastCpu;
            this.sloppyReader = sloppyReader;
        }

        @Override public String id() { return id; }
        @Override public Set<String> machines() { return Set.of("toy"); }
        @Override public Set<Integer> elfMachines() { return Set.of(0x7070); }
        @Override public DumpTarget describe(GuestState g) {
            return new DumpTarget(0x7070, ElfClass.ELF64, ElfData.LSB, 4096);
        }
        @Override public List<CpuNote> cpuNotes(GuestState g, DumpTarget t) { return readTable(t); }
        @Override public List<CpuNote> readTable(DumpTarget t) {
            CpuNote.DescriptorReader reader = sloppyReader
                    ? (ByteBuffer in, VcpuState.Builder b) -> { FRAME.read(in, b); b.set("sp", 0L); }
                    : FRAME::read;
            return List.of(FRAME.row(io.guestdump.arch.api.NoteGroup.ARCH, FRAME::write, reader));
        }
        @Override public List<VcpuState> parseMonitorRegisters(String text, String source) {
            List<VcpuState> cpus = new ArrayList<>();
            for (String line : text.split("\n")) {
                String[] f = line.split(" ");
                cpus.add(VcpuState.builder(cpus.size()).set("pc", Long.parseUnsignedLong(f[0].substring(3), 16))
                        .set("sp", Long.parseUnsignedLong(f[1].substring(3), 16)).build());
            }
            return cpus;
        }
        @Override public Set<String> registerNames(String machine) { return Set.of("pc", "sp"); }
        @Override public List<VcpuState> decodeNotes(List<Note> notes, DumpTarget target) {
            List<VcpuState> all = ArchitectureSupport.super.decodeNotes(notes, target);
            return dropLastCpu ? all.subList(0, all.size() - 1) : all;
        }
    }

    static final String TEXT = "pc=ffffffff80001000 sp=ffffffff80ff0000\npc=ffffffff80002000 sp=ffffffff80fe0000";

    @Test
    void aPluginThatKeepsTheContractPassesAndItsNotesAreThePrStatusFrame() {
        PluginContract.Result r = PluginContract.of(new Toy("toy", false, false)).monitorText(TEXT, "t").verify();
        assertEquals(2, r.notes().size());
        assertEquals(8 * 2 + 112 + 4 + 4, r.notes().get(0).descSize(), "pr_reg 2 × 8 after the ELF64 frame");
        assertEquals(2, ElfData.LSB.wrap(r.notes().get(1).desc()).getInt(PrStatus.PID_OFFSET_64), "pr_pid = 1 + 1");
    }

    @Test
    void goldenBytesAreCompared() {
        PluginContract.Result r = PluginContract.of(new Toy("toy", false, false)).monitorText(TEXT, "t").verify();
        byte[] golden = NoteEncoder.encode(r.notes(), ElfData.LSB);
        PluginContract.of(new Toy("toy", false, false)).monitorText(TEXT, "t").goldenNotes(golden, "g").verify();
        golden[golden.length - 9] ^= 1;
        AssertionError e = assertThrows(AssertionError.class, () -> PluginContract.of(new Toy("toy", false, false))
                .monitorText(TEXT, "t").goldenNotes(golden, "the golden file").verify());
        assertTrue(e.getMessage().contains("notes differ from the golden file"), e.getMessage());
    }

    @Test
    void eachBreachIsNamed() {
        AssertionError lost = assertThrows(AssertionError.class,
                () -> PluginContract.of(new Toy("toy", true, false)).monitorText(TEXT, "t").verify());
        assertTrue(lost.getMessage().contains("decode: 1 vCPUs back from 2"), lost.getMessage());
        AssertionError sloppy = assertThrows(AssertionError.class,
                () -> PluginContract.of(new Toy("toy", false, true)).monitorText(TEXT, "t").verify());
        assertTrue(sloppy.getMessage().contains("write → decode → write changed the notes"), sloppy.getMessage());
        AssertionError noConfig = assertThrows(AssertionError.class,
                () -> PluginContract.of(new Toy("nothere", false, false)).monitorText(TEXT, "t").verify());
        assertTrue(noConfig.getMessage().contains("no guestdump.arch.\"nothere\" subtree"), noConfig.getMessage());
    }
}
