package io.guestdump.arch.arm;

import io.guestdump.testkit.RecordingSink;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.guestdump.arch.api.UnsupportedGuestException;
import io.guestdump.arch.api.VcpuState;
import io.guestdump.memory.ByteArrayData;
import io.guestdump.memory.GuestBlock;
import io.guestdump.memory.GuestMemory;
import io.guestdump.memory.PhysRange;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Where the walker takes its registers from, and what it says when it has neither registers nor VMCOREINFO. */
class ArmWalkerSourcesTest {
    private static final GuestMemory MEMORY = new GuestMemory(List.of(new GuestBlock(
            PhysRange.ofLength(0x4000_0000L, 0x1000), new ByteArrayData(new byte[0x1000]), "ram")));

    @Test
    void aarch64WithoutRegistersOrVmcoreinfoNamesTheRemedy() {
        VcpuState cpu = VcpuState.builder(0).set("pc", 0xffff_8000_0000_0000L).set("pstate", 0x3c5).build();
        UnsupportedGuestException e = assertThrows(UnsupportedGuestException.class,
                () -> new ArmPageTableWalker().walk(WalkerGuests.guest("aarch64", MEMORY, cpu), cpu, MEMORY,
                        new RecordingSink()));
        assertTrue(e.getMessage().contains("ttbr1_el1"), e.getMessage());
    }

    @Test
    void aarch64VmcoreinfoLackingKimageVoffsetIsNamed() {
        VcpuState cpu = VcpuState.builder(0).set("pc", 0).build();
        UnsupportedGuestException e = assertThrows(UnsupportedGuestException.class,
                () -> new ArmPageTableWalker().walk(WalkerGuests.guest("aarch64", MEMORY, cpu,
                        "OSRELEASE=6.1\nPAGESIZE=4096\nSYMBOL(swapper_pg_dir)=ffff800008000000\nNUMBER(VA_BITS)=48\n"),
                        cpu, MEMORY, new RecordingSink()));
        assertTrue(e.getMessage().contains("kimage_voffset)=(absent)"), e.getMessage());
    }

    @Test
    void aarch64VmcoreinfoFallbackUsesT1szGranuleAndVoffset() throws Exception {
        VcpuState cpu = VcpuState.builder(0).set("pc", 0).build();
        String vi = "OSRELEASE=6.1\nPAGESIZE=16384\nSYMBOL(swapper_pg_dir)=ffff800008001000\n"
                + "NUMBER(kimage_voffset)=0xffff7fffc8000000\nNUMBER(VA_BITS)=52\nNUMBER(TCR_EL1_T1SZ)=0x11\n";
        LongDescriptorWalk.Regime r = Aarch64PageTableWalker.regimes(WalkerGuests.guest("aarch64", MEMORY, cpu, vi),
                cpu).get(0);
        assertEquals(0x4000_1000L, r.tableBase());
        assertEquals(47, r.inputBits());
        assertEquals(14, r.granuleShift());
        assertEquals(-(1L << 47), r.vaBase());
    }

    @Test
    void pagingEnabledFollowsSctlrOrThePc() {
        ArmPageTableWalker w = new ArmPageTableWalker();
        assertTrue(w.pagingEnabled(VcpuState.builder(0).set("pc", 0xffff_8000_0000_1000L).build()));
        assertFalse(w.pagingEnabled(VcpuState.builder(0).set("pc", 0x4000_1000L).build()));
        assertFalse(w.pagingEnabled(VcpuState.builder(0).set("pc", 0xffff_8000_0000_1000L).set("sctlr_el1", 0)
                .build()));
        assertTrue(w.pagingEnabled(VcpuState.builder(0).set("r15", 0xc000_0000L).set("cpsr", 0x13).build()));
        assertFalse(w.pagingEnabled(VcpuState.builder(0).set("r15", 0).set("sctlr", 0).build()));
    }
}
