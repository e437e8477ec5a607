package io.guestdump.arch.riscv64;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.guestdump.arch.api.DumpTarget;
import io.guestdump.arch.api.GuestState;
import io.guestdump.arch.api.VcpuState;
import io.guestdump.core.notes.NoteSegmentBuilder;
import io.guestdump.elf.ElfData;
import io.guestdump.elf.Note;
import io.guestdump.elf.NoteEncoder;
import io.guestdump.testkit.Bytes;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The QEMU 7.2 reference guest (src/test/resources/qemu-7.2/README.md): our notes from its {@code info registers -a}
 * text equal, byte for byte, the PT_NOTE QEMU's own dump-guest-memory wrote for the same paused guest; and decoding
 * QEMU's notes gives back the monitor's registers.
 */
class Riscv64GoldenNotesTest {
    private final Riscv64Architecture plugin = Riscv64Guests.plugin();

    @Test
    void notesFromTheMonitorTextEqualQemusPtNote() {
        List<VcpuState> cpus = plugin.parseMonitorRegisters(Riscv64Guests.text(Riscv64Guests.MONITOR_TEXT),
                "virt-2cpu-info-registers-a.txt");
        GuestState guest = Riscv64Guests.guest(Riscv64Guests.ram(0x8000_0000L, new byte[4096]), cpus);
        DumpTarget target = plugin.describe(guest);
        List<Note> notes = NoteSegmentBuilder.build(plugin.cpuNotes(guest, target), cpus, target, null, List.of());
        byte[] qemu = Riscv64Guests.resource(Riscv64Guests.QEMU_NOTES);
        assertEquals(2 * (12 + 8 + 376), qemu.length, "QEMU wrote one 376-byte CORE note per vCPU and nothing else");
        Bytes.assertSameBytes(qemu, NoteEncoder.encode(notes, target.data()), "riscv64 PT_NOTE vs QEMU 7.2");
    }

    @Test
    void qemusNotesDecodeToTheMonitorRegisters() {
        List<VcpuState> monitor = plugin.parseMonitorRegisters(Riscv64Guests.text(Riscv64Guests.MONITOR_TEXT), "m");
        DumpTarget target = new DumpTarget(Riscv64Architecture.EM_RISCV, io.guestdump.elf.ElfClass.ELF64,
                ElfData.LSB, 4096);
        List<VcpuState> decoded = plugin.decodeNotes(NoteEncoder.decode(Riscv64Guests.resource(
                Riscv64Guests.QEMU_NOTES), ElfData.LSB), target);
        assertEquals(2, decoded.size());
        for (int cpu = 0; cpu < 2; cpu++) {
            for (String name : Riscv64PrStatus.REGISTERS) {
                assertEquals(monitor.get(cpu).value(name), decoded.get(cpu).value(name), "vCPU " + cpu + " " + name);
            }
            assertEquals(Riscv64PrStatus.REGISTERS, List.copyOf(decoded.get(cpu).registers().keySet()));
        }
    }
}
