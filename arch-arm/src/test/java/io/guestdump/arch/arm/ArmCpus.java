package io.guestdump.arch.arm;

import io.guestdump.arch.api.VcpuState;
import java.math.BigInteger;
import java.util.Random;

/** Synthetic vCPU states with distinctive or random register values. */
final class ArmCpus {
    private ArmCpus() {}

    /** An AArch64 vCPU in AArch64 state with every prstatus/fpsimd register set to a distinctive value. */
    static VcpuState.Builder aarch64(int index) {
        VcpuState.Builder b = aarch64Integer(index);
        for (int i = 0; i < 32; i++) {
            b.set("v" + i, BigInteger.valueOf(0x0102_0304_0506_0708L + i).shiftLeft(64)
                    .or(BigInteger.valueOf(0x1112_1314_1516_1718L + i)));
        }
        return b;
    }

    /** An SVE vCPU: the registers of {@link #aarch64} without V (the Z registers hold them), plus Z/P/FFR. */
    static VcpuState.Builder aarch64Sve(int index, int vq, Random random) {
        return withSve(aarch64Integer(index), vq, random);
    }

    private static VcpuState.Builder aarch64Integer(int index) {
        VcpuState.Builder b = VcpuState.builder(index);
        for (int i = 0; i <= 30; i++) {
            b.set("x" + i, 0x1100_0000_0000_0000L + ((long) index << 40) + i);
        }
        b.set("sp", 0xffff_8000_0801_3d50L);
        b.set("pc", 0xffff_c148_c75a_f4fcL);
        b.set("pstate", 0x4000_00c5L);
        b.set("fpsr", 0x0800_0010L);
        b.set("fpcr", 0x0300_0000L);
        return b;
    }

    /** A 32-bit ARM vCPU with VFP. */
    static VcpuState.Builder arm(int index) {
        VcpuState.Builder b = VcpuState.builder(index);
        for (int i = 0; i <= 15; i++) {
            b.set("r" + i, 0xc000_0000L + (index << 16) + i);
        }
        b.set("cpsr", 0x6003_0093L);
        for (int i = 0; i < 32; i++) {
            b.set("d" + i, 0x4000_0000_0000_0000L + ((long) i << 32) + i);
        }
        b.set("fpscr", 0x8000_0000L);
        return b;
    }

    /** Adds SVE registers of vector length {@code vq} with random values. */
    static VcpuState.Builder withSve(VcpuState.Builder b, int vq, Random random) {
        b.set(SveConfig.SVE_VQ, vq);
        for (int i = 0; i < 32; i++) {
            b.set("z" + i, new BigInteger(vq * 128, random));
        }
        for (int i = 0; i < 16; i++) {
            b.set("p" + i, new BigInteger(vq * 16, random));
        }
        b.set("ffr", new BigInteger(vq * 16, random));
        return b;
    }

    /** A random AArch64-state vCPU with exactly the registers the notes carry (v0..v31 included). */
    static VcpuState randomAarch64(int index, Random random) {
        VcpuState.Builder b = VcpuState.builder(index);
        for (String name : Aarch64PrStatus.REGISTERS) {
            // pstate is 32 bits wide (QEMU's pstate_read returns uint32_t)
            b.set(name, name.equals("pstate") ? random.nextInt() & 0xffff_ffffL : random.nextLong());
        }
        for (int i = 0; i < 32; i++) {
            b.set("v" + i, new BigInteger(128, random));
        }
        b.set("fpsr", random.nextInt() & 0xffff_ffffL);
        b.set("fpcr", random.nextInt() & 0xffff_ffffL);
        return b.build();
    }

    /** A random 32-bit ARM vCPU with VFP. */
    static VcpuState randomArm(int index, Random random) {
        VcpuState.Builder b = VcpuState.builder(index);
        for (String name : ArmPrStatus.REGISTERS) {
            b.set(name, random.nextInt() & 0xffff_ffffL);
        }
        for (int i = 0; i < 32; i++) {
            b.set("d" + i, random.nextLong());
        }
        b.set("fpscr", random.nextInt() & 0xffff_ffffL);
        return b.build();
    }
}
