package io.guestdump.arch.riscv64;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.guestdump.testkit.PluginContract;
import org.junit.jupiter.api.Test;

/**
 * The plugin contract on the QEMU 7.2 reference guest (src/test/resources/qemu-7.2): its monitor text parses into
 * names the plugin accepts, the notes are the table's size, write → decode → write is stable, and the notes equal
 * the PT_NOTE QEMU's own dump-guest-memory wrote for the same paused guest, byte for byte.
 */
class Riscv64ContractTest {
    @Test
    void referenceGuestKeepsTheContractAndMatchesQemusNotes() {
        PluginContract.Result r = PluginContract.of(Riscv64Guests.plugin())
                .monitorText(Riscv64Guests.text(Riscv64Guests.MONITOR_TEXT), Riscv64Guests.MONITOR_TEXT)
                .goldenNotes(Riscv64Guests.resource(Riscv64Guests.QEMU_NOTES), "QEMU 7.2's PT_NOTE")
                .verify();
        assertEquals(2, r.decoded().size());
    }
}
