package io.guestdump.arch.arm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;

import io.guestdump.arch.api.DumpTarget;
import io.guestdump.arch.api.GuestState;
import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.arch.api.VcpuState;
import io.guestdump.elf.ElfData;
import io.guestdump.elf.Note;
import io.guestdump.elf.NoteEncoder;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** decodeNotes is the inverse of the notes, for both machines and both byte orders. */
class ArmDecodeRoundTripTest {
    private static final BigInteger EE = BigInteger.ONE.shiftLeft(25);
    private final ArmArchitecture plugin = ArmTestGuests.plugin();

    /** Encodes the guest's notes into a PT_NOTE payload and decodes that back, as a vmcore reader would. */
    private List<VcpuState> roundTrip(GuestState guest, String vmcoreinfo) {
        DumpTarget target = plugin.describe(guest);
        byte[] segment = NoteEncoder.encode(ArmTestGuests.notes(plugin, guest, vmcoreinfo), target.data());
        List<Note> notes = new ArrayList<>(NoteEncoder.decode(segment, target.data()));
        if (vmcoreinfo != null) {
            notes.remove(notes.size() - 1);
        }
        return plugin.decodeNotes(notes, target);
    }

    private static List<VcpuState> withSctlr(List<VcpuState> cpus, String name, ElfData data) {
        return cpus.stream().map(c -> data == ElfData.MSB ? c.with(java.util.Map.of(name, EE)) : c).toList();
    }

    @Test
    void aarch64RoundTripsInBothByteOrders() {
        AtomicInteger big = new AtomicInteger();
        qt().forAll(integers().all(), integers().between(1, 4)).checkAssert((seed, count) -> {
            Random random = new Random(seed);
            ElfData data = random.nextBoolean() ? ElfData.MSB : ElfData.LSB;
            List<VcpuState> cpus = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                cpus.add(ArmCpus.randomAarch64(i, random));
            }
            cpus = withSctlr(cpus, "sctlr_el1", data);
            List<VcpuState> decoded = roundTrip(ArmTestGuests.guest("aarch64", cpus), "PAGESIZE=4096\n");
            assertEquals(cpus, decoded);
            if (data == ElfData.MSB) {
                big.incrementAndGet();
            }
        });
        assertTrue(big.get() > 0, "big-endian cases were generated");
    }

    @Test
    void armRoundTripsInBothByteOrders() {
        AtomicInteger big = new AtomicInteger();
        qt().forAll(integers().all(), integers().between(1, 4)).checkAssert((seed, count) -> {
            Random random = new Random(seed);
            ElfData data = random.nextBoolean() ? ElfData.MSB : ElfData.LSB;
            List<VcpuState> cpus = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                cpus.add(ArmCpus.randomArm(i, random));
            }
            cpus = withSctlr(cpus, "sctlr", data);
            assertEquals(cpus, roundTrip(ArmTestGuests.guest("arm", cpus), null));
            if (data == ElfData.MSB) {
                big.incrementAndGet();
            }
        });
        assertTrue(big.get() > 0, "big-endian cases were generated");
    }

    @Test
    void sveRoundTripsInBothByteOrdersAtEveryVectorLength() {
        for (ElfData data : ElfData.values()) {
            for (int vq = 1; vq <= 16; vq++) {
                Random random = new Random(vq * 31L + data.ordinal());
                VcpuState.Builder b = VcpuState.builder(0);
                ArmCpus.randomAarch64(0, random).registers().forEach((k, v) -> {
                    if (!k.startsWith("v")) {
                        b.set(k, v);
                    }
                });
                VcpuState cpu = ArmCpus.withSve(b, vq, random).set(SveConfig.SVE_MAX_VQ, 16).build();
                List<VcpuState> cpus = withSctlr(List.of(cpu), "sctlr_el1", data);
                VcpuState decoded = roundTrip(ArmTestGuests.guest("aarch64", cpus), null).get(0);
                for (String name : cpus.get(0).registers().keySet()) {
                    if (!name.startsWith("v")) {
                        assertEquals(cpus.get(0).value(name), decoded.value(name), name + " vq=" + vq + " " + data);
                    }
                }
                // NT_PRFPREG carries the low 128 bits of each Z register as the V register
                assertEquals(cpu.value("z9").and(BigInteger.ONE.shiftLeft(128).subtract(BigInteger.ONE)),
                        decoded.value("v9"));
            }
        }
    }

    @Test
    void disagreeingVAndZRegistersAreRefused() {
        VcpuState cpu = ArmCpus.withSve(ArmCpus.aarch64(0), 1, new Random(3)).build();
        GuestState guest = ArmTestGuests.guest("aarch64", List.of(cpu));
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> ArmTestGuests.notes(plugin, guest));
        assertTrue(e.getMessage().contains("v0"), e.getMessage());
    }

    @Test
    void fpNoteBeforeAnyPrstatusIsRefused() {
        GuestState guest = ArmTestGuests.guest("aarch64", List.of(ArmCpus.aarch64(0).build()));
        List<Note> notes = ArmTestGuests.notes(plugin, guest);
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> plugin.decodeNotes(List.of(notes.get(1), notes.get(0)), plugin.describe(guest)));
        assertTrue(e.getMessage().contains("note #0 (CORE type 0x2) comes before the first CORE type 1 note"), e.getMessage());
    }

    @Test
    void wrongPrstatusSizeIsRefused() {
        GuestState guest = ArmTestGuests.guest("arm", List.of(ArmCpus.arm(0).build()));
        Note shortNote = new Note("CORE", 1, new byte[144]);
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> plugin.decodeNotes(List.of(shortNote), plugin.describe(guest)));
        assertTrue(e.getMessage().contains("n_descsz=144"), e.getMessage());
        assertTrue(e.getMessage().contains("148"), e.getMessage());
    }

    @Test
    void foreignNotesAreSkipped() {
        GuestState guest = ArmTestGuests.guest("arm", List.of(ArmCpus.arm(0).build()));
        List<Note> notes = new ArrayList<>(ArmTestGuests.notes(plugin, guest));
        notes.add(new Note("QEMU", 0, new byte[440]));
        assertEquals(guest.cpus(), plugin.decodeNotes(notes, plugin.describe(guest)));
    }
}
