package io.guestdump.arch.s390x;

import static io.guestdump.arch.s390x.S390xFixtures.descOffset;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.guestdump.arch.api.VcpuState;
import io.guestdump.elf.ElfData;
import io.guestdump.elf.NoteType;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Field-by-field reads, at absolute offsets of the encoded PT_NOTE payload, in big-endian order. Every register
 * gets a distinct value so that a field written at the wrong place cannot pass. Note numbers follow
 * {@link S390xNoteTable}: 0 prstatus, 1 fpregset, 2 prefix, 3 ctrs, 4 timer, 5 todcmp, 6 todpreg, 7 vxrs_low,
 * 8 vxrs_high, 9 gs_cb.
 */
class S390xFieldOffsetTest {
    private static final int CPU = 1; // the second vCPU, so pr_pid is 2 and offsets include one vCPU's notes
    private static ByteBuffer seg;

    @BeforeAll
    static void encode() {
        seg = ElfData.MSB.wrap(S390xFixtures.segment(List.of(state(0), state(1))));
    }

    /** Register {@code k} of vCPU {@code cpu} holds 0x{cpu}{k}… patterns that differ in every byte. */
    static VcpuState state(int cpu) {
        VcpuState.Builder b = VcpuState.builder(cpu);
        int k = 0;
        for (String name : S390xRegisters.names()) {
            if (name.matches("f\\d+")) {
                continue; // f0-f15 come from v0-v15
            }
            int width = S390xRegisters.width(name);
            BigInteger v = BigInteger.ZERO;
            for (int i = 0; i < width / 8; i++) {
                v = v.shiftLeft(8).or(BigInteger.valueOf((cpu * 0x40 + k + i * 7 + 1) & 0xff));
            }
            b.set(name, v);
            k++;
        }
        return b.build();
    }

    private static long u64(VcpuState cpu, String name) {
        return cpu.u64(name);
    }

    @Test
    void noteHeadersAreBigEndianWithQemuOwnersTypesAndSizes() {
        int[] types = {NoteType.NT_PRSTATUS, S390xElf.NT_FPREGSET, S390xElf.NT_S390_PREFIX, S390xElf.NT_S390_CTRS,
            S390xElf.NT_S390_TIMER, S390xElf.NT_S390_TODCMP, S390xElf.NT_S390_TODPREG, S390xElf.NT_S390_VXRS_LOW,
            S390xElf.NT_S390_VXRS_HIGH, S390xElf.NT_S390_GS_CB};
        int[] sizes = {336, 136, 4, 128, 8, 8, 4, 128, 256, 32};
        for (int n = 0; n < types.length; n++) {
            int header = descOffset(CPU, n) - 20;
            boolean core = n < 2;
            // n_namesz: "CORE\0" = 5, "LINUX\0" = 6
            assertEquals(core ? 5 : 6, seg.getInt(header), "n_namesz of note " + n);
            // n_descsz
            assertEquals(sizes[n], seg.getInt(header + 4), "n_descsz of note " + n);
            // n_type
            assertEquals(types[n], seg.getInt(header + 8), "n_type of note " + n);
        }
        assertEquals(2 * S390xFixtures.NOTES_PER_CPU_BYTES, seg.capacity());
    }

    @Test
    void prstatusPidIsBigEndianAt32() {
        int d = descOffset(CPU, 0);
        // pr_pid @32: cpu index + 1, big-endian bytes 00 00 00 02
        assertEquals(0, seg.get(d + 32));
        assertEquals(0, seg.get(d + 33));
        assertEquals(0, seg.get(d + 34));
        assertEquals(2, seg.get(d + 35));
        assertEquals(1, seg.getInt(descOffset(0, 0) + 32));
    }

    @Test
    void prstatusPswGprsAndAcrsSitAt112() {
        VcpuState cpu = state(CPU);
        int d = descOffset(CPU, 0);
        // psw.mask @112, psw.addr @120
        assertEquals(u64(cpu, "psw.mask"), seg.getLong(d + 112));
        assertEquals(u64(cpu, "psw.addr"), seg.getLong(d + 120));
        // gprs @128, 8 bytes each
        for (int i = 0; i < 16; i++) {
            assertEquals(u64(cpu, "r" + i), seg.getLong(d + 128 + 8 * i), "r" + i);
        }
        // acrs @256, 4 bytes each
        for (int i = 0; i < 16; i++) {
            assertEquals(cpu.u32("a" + i), seg.getInt(d + 256 + 4 * i), "a" + i);
        }
        // everything else is zero: pad1 @0-31, pad2 @36-111, pad3 @320-335
        assertZero(d, 32);
        assertZero(d + 36, 76);
        assertZero(d + 320, 16);
    }

    @Test
    void fpregsetHoldsFpcThenLeftmostDoublewordsOfV0ToV15() {
        VcpuState cpu = state(CPU);
        int d = descOffset(CPU, 1);
        // fpc @0, pad @4
        assertEquals(cpu.u32("fpc"), seg.getInt(d));
        assertEquals(0, seg.getInt(d + 4));
        // fprs @8: fN = leftmost doubleword of vN
        for (int i = 0; i < 16; i++) {
            assertEquals(cpu.value("v" + i).shiftRight(64).longValue(), seg.getLong(d + 8 + 8 * i), "f" + i);
        }
    }

    @Test
    void fpregsetTakesFprsWhenOnlyFprsAreGiven() {
        VcpuState cpu = VcpuState.builder(0).set("f3", 0x1122334455667788L).set("fpc", 0x80000000L).build();
        ByteBuffer only = ElfData.MSB.wrap(S390xFixtures.segment(List.of(cpu)));
        assertEquals(0x80000000, only.getInt(descOffset(0, 1)));
        assertEquals(0x1122334455667788L, only.getLong(descOffset(0, 1) + 8 + 3 * 8));
    }

    @Test
    void systemRegisterNotes() {
        VcpuState cpu = state(CPU);
        // NT_S390_PREFIX: u32
        assertEquals(cpu.u32("prefix"), seg.getInt(descOffset(CPU, 2)));
        // NT_S390_CTRS: c0-c15, u64 each
        for (int i = 0; i < 16; i++) {
            assertEquals(u64(cpu, "c" + i), seg.getLong(descOffset(CPU, 3) + 8 * i), "c" + i);
        }
        // NT_S390_TIMER, NT_S390_TODCMP: u64; NT_S390_TODPREG: u32
        assertEquals(u64(cpu, "cpu_timer"), seg.getLong(descOffset(CPU, 4)));
        assertEquals(u64(cpu, "clock_comparator"), seg.getLong(descOffset(CPU, 5)));
        assertEquals(cpu.u32("todpr"), seg.getInt(descOffset(CPU, 6)));
        // NT_S390_GS_CB: 4 × u64
        for (int i = 0; i < 4; i++) {
            assertEquals(u64(cpu, "gscb" + i), seg.getLong(descOffset(CPU, 9) + 8 * i), "gscb" + i);
        }
    }

    @Test
    void vxrsLowHoldsRightmostDoublewordsOfV0ToV15() {
        VcpuState cpu = state(CPU);
        int d = descOffset(CPU, 7);
        for (int i = 0; i < 16; i++) {
            assertEquals(cpu.value("v" + i).longValue(), seg.getLong(d + 8 * i), "v" + i + " low");
        }
    }

    @Test
    void vxrsHighHoldsV16ToV31WholeLeftmostFirst() {
        VcpuState cpu = state(CPU);
        int d = descOffset(CPU, 8);
        for (int i = 0; i < 16; i++) {
            BigInteger v = cpu.value("v" + (16 + i));
            assertEquals(v.shiftRight(64).longValue(), seg.getLong(d + 16 * i), "v" + (16 + i) + " left");
            assertEquals(v.longValue(), seg.getLong(d + 16 * i + 8), "v" + (16 + i) + " right");
        }
    }

    private static void assertZero(int from, int length) {
        for (int i = 0; i < length; i++) {
            assertEquals(0, seg.get(from + i), "byte at segment offset " + (from + i));
        }
    }
}
