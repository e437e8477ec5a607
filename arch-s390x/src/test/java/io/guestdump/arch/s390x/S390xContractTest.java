package io.guestdump.arch.s390x;

import io.guestdump.testkit.GoldenFiles;
import io.guestdump.testkit.PluginContract;
import java.nio.file.Files;
import org.junit.jupiter.api.Test;

/**
 * The plugin contract on the golden s390x guest: the monitor text parses, and the registers completed from QEMU's
 * notes (as a snapshot gives them) survive write → decode → write. No golden bytes: QEMU 7.2's differ on purpose
 * (see {@link S390xGoldenNotesTest}).
 */
class S390xContractTest {
    @Test
    void goldenGuestKeepsTheContract() throws Exception {
        PluginContract.of(S390xFixtures.arch())
                .monitorText(Files.readString(GoldenFiles.require("s390x", "info-registers-a.txt")),
                        "s390x/info-registers-a.txt")
                .cpus(S390xGoldenNotesTest.goldenCpus())
                .verify();
    }
}
