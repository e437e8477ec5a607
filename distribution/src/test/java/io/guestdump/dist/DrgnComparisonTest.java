package io.guestdump.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import org.junit.jupiter.api.Test;

/** DebuggersIT's drgn comparison: a vCPU's stack may only go deeper on our file; nothing else may differ. */
class DrgnComparisonTest {
    static final String QEMU = "version 0.0.22\ncpu 0 swapper/0 0xffffffff8e41aa40\ncpu 1 swapper/1 0xffff89d3df51fc40\n"
            + "task 1 init context_switch <- __schedule\n";

    /** The case from a CI run: cpu 0 idle, one garbage frame more on the plain ELF than on QEMU's paging file. */
    @Test
    void aDeeperVcpuStackOnOurFileIsTheSame() {
        String ours = QEMU.replace("cpu 0 swapper/0 0xffffffff8e41aa40", "cpu 0 swapper/0 0xffffffff8e41aa40 <- "
                + "0x68006affffb3ab");
        assertEquals(QEMU, DebuggersIT.sameOrDeeper(QEMU, ours));
    }

    @Test
    void anyOtherDifferenceStays() {
        String shallower = QEMU.replace("cpu 1 swapper/1 0xffff89d3df51fc40", "cpu 1 swapper/1");
        assertNotEquals(QEMU, DebuggersIT.sameOrDeeper(QEMU, shallower));
        String task = QEMU.replace("task 1 init context_switch <- __schedule", "task 1 init context_switch <- __schedule"
                + " <- schedule");
        assertNotEquals(QEMU, DebuggersIT.sameOrDeeper(QEMU, task));
        String otherCpu = QEMU.replace("cpu 0 swapper/0 0xffffffff8e41aa40", "cpu 0 swapper/0 0xffffffff8e41aa48");
        assertNotEquals(QEMU, DebuggersIT.sameOrDeeper(QEMU, otherCpu));
    }
}
