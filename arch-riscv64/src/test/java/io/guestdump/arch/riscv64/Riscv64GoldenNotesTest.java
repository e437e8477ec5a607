package io.guestdump.arch.riscv64;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.guestdump.arch.api.DumpTarget;
import io.guestdump.arch.api.VcpuState;
import io.guestdump.elf.ElfData;
import io.guestdump.elf.NoteEncoder;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The QEMU 7.2 reference guest (src/test/resources/qemu-7.2/README.md): decoding the PT_NOTE QEMU's own
 * dump-guest-memory wrote gives back the registers its {@code info registers -a} text shows for the same paused guest.
 * (That our notes equal QEMU's bytes is {@link Riscv64ContractTest}'s golden check.)
 */
class Riscv64GoldenNotesTest {
    private final Riscv64Architecture plugin = Riscv64Guests.plugin();

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
