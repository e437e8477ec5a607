package io.guestdump.arch.s390x;

import static io.guestdump.arch.s390x.S390xFixtures.descOffset;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.guestdump.arch.api.VcpuState;
import io.guestdump.elf.ElfData;
import io.guestdump.elf.NoteEncoder;
import io.guestdump.testkit.Bytes;
import io.guestdump.testkit.GoldenFiles;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Our notes against the PT_NOTE QEMU 7.2 wrote for the same paused guest ({@code qemu-filter-odd.elf}, no
 * VMCOREINFO). The registers come from the golden {@code info-registers-a.txt}; those the monitor text does not
 * print (prefix, CPU timer, clock comparator, TOD programmable register, fpc, access registers, guarded storage)
 * come from QEMU's own notes, as a snapshot's {@code cpus} values would supply them.
 *
 * <p>Two deliberate differences are patched into QEMU's bytes before the byte comparison, each asserted first:
 * {@code pr_pid} (QEMU 7.2 wrote it little-endian) and the condition code in {@code psw.mask} (QEMU 7.2 under TCG
 * wrote the stale {@code env->psw.mask}; the monitor text, and we, give the computed one).
 */
class S390xGoldenNotesTest {
    private static final String ARCH = "s390x";

    @Test
    void notesEqualQemuExceptPrPidByteOrderAndPswConditionCode() throws IOException {
        byte[] qemu = S390xFixtures.ptNote(GoldenFiles.require(ARCH, "qemu-filter-odd.elf"));
        List<VcpuState> cpus = goldenCpus();
        byte[] ours = S390xFixtures.segment(cpus);
        assertEquals(2 * S390xFixtures.NOTES_PER_CPU_BYTES, qemu.length, "QEMU's PT_NOTE: two vCPUs, no VMCOREINFO");
        assertEquals(qemu.length, ours.length, "PT_NOTE size");

        byte[] expected = qemu.clone();
        ByteBuffer qemuBe = ElfData.MSB.wrap(qemu);
        ByteBuffer qemuLe = ByteBuffer.wrap(qemu).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer oursBe = ElfData.MSB.wrap(ours);
        ByteBuffer patched = ElfData.MSB.wrap(expected);
        for (int cpu = 0; cpu < cpus.size(); cpu++) {
            int prstatus = descOffset(cpu, 0);

            // difference 1: pr_pid. QEMU 7.2 wrote cpu index + 1 in host (little-endian) order; we write it big-endian
            int pid = prstatus + S390xPrStatus.PID_OFFSET;
            assertEquals(cpu + 1, qemuLe.getInt(pid), "QEMU's little-endian pr_pid of vCPU " + cpu);
            assertEquals(cpu + 1, oursBe.getInt(pid), "our big-endian pr_pid of vCPU " + cpu);
            patched.putInt(pid, cpu + 1);

            // difference 2: psw.mask. Only the condition code (PSW bits 18-19) may differ
            int mask = prstatus + S390xPrStatus.PSW_MASK_OFFSET;
            long qemuMask = qemuBe.getLong(mask);
            long ourMask = oursBe.getLong(mask);
            assertEquals(cpus.get(cpu).u64(S390xRegisters.PSW_MASK), ourMask, "our psw.mask is the monitor's");
            assertEquals(0, (qemuMask ^ ourMask) & ~S390xRegisters.PSW_MASK_CC,
                    "psw.mask of vCPU " + cpu + " differs outside the condition code: QEMU 0x"
                            + Long.toHexString(qemuMask) + ", ours 0x" + Long.toHexString(ourMask));
            patched.putLong(mask, ourMask);
        }
        Bytes.assertSameBytes(expected, ours, "s390x PT_NOTE vs QEMU 7.2 (pr_pid and psw cc patched)");
    }

    @Test
    void pswConditionCodeDifferenceIsTheOneTheMonitorShows() throws IOException {
        byte[] qemu = S390xFixtures.ptNote(GoldenFiles.require(ARCH, "qemu-filter-odd.elf"));
        ByteBuffer be = ElfData.MSB.wrap(qemu);
        // CPU#0: monitor "PSW=mask 0704e00180000000 … cc CC_OP_LTGT0_64" (cc 2); QEMU's note has cc 0
        assertEquals(0x0704c00180000000L, be.getLong(descOffset(0, 0) + S390xPrStatus.PSW_MASK_OFFSET));
        assertEquals(0x0704e00180000000L, goldenCpus().get(0).u64(S390xRegisters.PSW_MASK));
        // CPU#1: "cc 00", so both agree
        assertEquals(0x0706c00180000000L, be.getLong(descOffset(1, 0) + S390xPrStatus.PSW_MASK_OFFSET));
        assertEquals(0x0706c00180000000L, goldenCpus().get(1).u64(S390xRegisters.PSW_MASK));
    }

    @Test
    void monitorTextAgreesWithQemuNotesOnEveryRegisterItPrints() throws IOException {
        List<VcpuState> monitor = monitorCpus();
        List<VcpuState> qemu = qemuCpus();
        for (int cpu = 0; cpu < monitor.size(); cpu++) {
            for (Map.Entry<String, BigInteger> e : monitor.get(cpu).registers().entrySet()) {
                if (e.getKey().equals(S390xRegisters.PSW_MASK)) {
                    continue; // see pswConditionCodeDifferenceIsTheOneTheMonitorShows
                }
                assertEquals(e.getValue(), qemu.get(cpu).value(e.getKey()), "vCPU " + cpu + " " + e.getKey());
            }
        }
    }

    /** The monitor's registers, completed from QEMU's notes for the registers the monitor text does not print. */
    static List<VcpuState> goldenCpus() throws IOException {
        List<VcpuState> monitor = monitorCpus();
        List<VcpuState> qemu = qemuCpus();
        List<VcpuState> cpus = new ArrayList<>();
        for (int i = 0; i < monitor.size(); i++) {
            Set<String> printed = new HashSet<>(monitor.get(i).registers().keySet());
            Map<String, BigInteger> fromNotes = new LinkedHashMap<>();
            for (Map.Entry<String, BigInteger> e : qemu.get(i).registers().entrySet()) {
                // f0-f15 are the leftmost doublewords of the printed v0-v15, so they are not taken over
                boolean fpr = e.getKey().matches("f\\d+");
                if (!printed.contains(e.getKey()) && !fpr) {
                    fromNotes.put(e.getKey(), e.getValue());
                }
            }
            cpus.add(monitor.get(i).with(fromNotes));
        }
        return cpus;
    }

    private static List<VcpuState> monitorCpus() throws IOException {
        Path text = GoldenFiles.require(ARCH, "info-registers-a.txt");
        return S390xFixtures.arch().parseMonitorRegisters(Files.readString(text), text.toString());
    }

    private static List<VcpuState> qemuCpus() throws IOException {
        byte[] qemu = S390xFixtures.ptNote(GoldenFiles.require(ARCH, "qemu-filter-odd.elf"));
        return S390xFixtures.arch().decodeNotes(NoteEncoder.decode(qemu, ElfData.MSB), S390xFixtures.target());
    }
}
