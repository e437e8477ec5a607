package io.guestdump.arch.ppc64;

import io.guestdump.testkit.GoldenFiles;
import io.guestdump.testkit.PluginContract;
import java.nio.file.Files;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The plugin contract on the golden little-endian pseries guest, and on the same registers as a big-endian guest.
 * No golden bytes: QEMU 7.2's notes differ on purpose (see {@link Ppc64GoldenTest}).
 */
class Ppc64ContractTest {
    @Test
    void goldenGuestKeepsTheContractInItsByteOrder() throws Exception {
        PluginContract.of(Ppc64Fixtures.arch())
                .monitorText(Files.readString(GoldenFiles.require("ppc64le", "info-registers-a.txt")),
                        "ppc64le/info-registers-a.txt")
                .properties(Map.of("machine-type", "pseries-7.2"))
                .verify();
    }

    @Test
    void bigEndianDumpKeepsTheContract() throws Exception {
        PluginContract.of(Ppc64Fixtures.arch("byte-order = big"))
                .monitorText(Files.readString(GoldenFiles.require("ppc64le", "info-registers-a.txt")),
                        "ppc64le/info-registers-a.txt")
                .verify();
    }
}
