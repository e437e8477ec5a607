package io.guestdump.core.source;

import io.guestdump.arch.api.ArchitectureSupport;
import io.guestdump.arch.api.CpuNote;
import io.guestdump.arch.api.DumpTarget;
import io.guestdump.arch.api.GuestState;
import io.guestdump.arch.api.MigrationDevice;
import io.guestdump.arch.api.MigrationInput;
import io.guestdump.arch.api.NoteGroup;
import io.guestdump.arch.api.RamBlockMapping;
import io.guestdump.arch.api.VcpuState;
import io.guestdump.core.TestMachines;
import io.guestdump.core.plugins.ArchitectureRegistry;
import io.guestdump.elf.ElfClass;
import io.guestdump.elf.ElfData;
import io.guestdump.elf.Note;
import io.guestdump.elf.NoteType;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Builds QEMU migration streams for tests, byte by byte as QEMU 7.2's savevm.c and ram.c write them, with a model of
 * the memory they hold, and a toy plugin that reads them ({@code toy-1.0}: {@code toy.ram} at 0x100000,
 * {@code toy.rom} ending at 4 GiB; vCPU sections named {@code cpu} with {@code pc}, {@code regs} and a struct array
 * {@code segs}).
 */
final class TestMigration {
    static final int PAGE = 4096;
    static final long RAM_BASE = 0x100000;
    static final long RAM_SIZE = 16 * PAGE;
    static final long ROM_SIZE = 2 * PAGE;
    static final long ROM_BASE = 0x1_0000_0000L - ROM_SIZE;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final StringBuilder json = new StringBuilder();
    private int devices;
    /** Guest-physical bytes the stream should give: RAM then ROM. */
    final byte[] ram = new byte[(int) RAM_SIZE];
    final byte[] rom = new byte[(int) ROM_SIZE];

    TestMigration u8(int v) {
        out.write(v);
        return this;
    }

    TestMigration u16(int v) {
        return raw(ByteBuffer.allocate(2).order(ByteOrder.BIG_ENDIAN).putShort((short) v).array());
    }

    TestMigration u32(long v) {
        return raw(ByteBuffer.allocate(4).order(ByteOrder.BIG_ENDIAN).putInt((int) v).array());
    }

    TestMigration u64(long v) {
        return raw(ByteBuffer.allocate(8).order(ByteOrder.BIG_ENDIAN).putLong(v).array());
    }

    TestMigration raw(byte[] b) {
        out.writeBytes(b);
        return this;
    }

    TestMigration str(String s) {
        byte[] b = s.getBytes(StandardCharsets.ISO_8859_1);
        u8(b.length);
        return raw(b);
    }

    /** QEVM, version 3, configuration section naming {@code machine}, with target-page-bits when asked. */
    TestMigration header(String machine, boolean pageBits) {
        u32(0x5145564d).u32(3);
        u8(0x07).u32(machine.length()).raw(machine.getBytes(StandardCharsets.ISO_8859_1));
        if (pageBits) {
            u8(0x05).str("configuration/target-page-bits").u32(1).u32(12);
        }
        return this;
    }

    TestMigration sectionStart(int type, int id, String idstr, int instance, int version) {
        return u8(type).u32(id).str(idstr).u32(instance).u32(version);
    }

    TestMigration footer(int id) {
        return u8(0x7e).u32(id);
    }

    /** The RAM section's setup: MEM_SIZE listing toy.ram and toy.rom, EOS. */
    TestMigration ramSetup(int id) {
        sectionStart(0x01, id, "ram", 0, 4);
        u64((RAM_SIZE + ROM_SIZE) | 0x04);
        str("toy.ram").u64(RAM_SIZE);
        str("toy.rom").u64(ROM_SIZE);
        u64(0x10);
        return footer(id);
    }

    /** A page record; {@code cont} uses RAM_SAVE_FLAG_CONTINUE. Updates the model. */
    TestMigration page(String block, long offset, boolean cont, byte[] data) {
        u64(offset | 0x08 | (cont ? 0x20 : 0));
        if (!cont) {
            str(block);
        }
        raw(data);
        System.arraycopy(data, 0, block.equals("toy.ram") ? ram : rom, (int) offset, PAGE);
        return this;
    }

    /** A zero-page record with fill byte {@code fill}. Updates the model. */
    TestMigration zero(String block, long offset, boolean cont, int fill) {
        u64(offset | 0x02 | (cont ? 0x20 : 0));
        if (!cont) {
            str(block);
        }
        u8(fill);
        java.util.Arrays.fill(block.equals("toy.ram") ? ram : rom, (int) offset, (int) offset + PAGE, (byte) fill);
        return this;
    }

    /** A vCPU section (FULL) with pc, regs[4] (u32), segs[2] {base u64, limit u32} and a subsection {extra u16}. */
    TestMigration cpu(int id, int index, long pc) {
        sectionStart(0x04, id, "cpu", index, 1);
        u64(pc);
        for (int i = 0; i < 4; i++) {
            u32(0x1000 * index + i);
        }
        for (int i = 0; i < 2; i++) {
            u64(0xb000 + i).u32(0xffff);
        }
        u8(0x05).str("cpu/extra").u32(1).u16(0xbeef);
        footer(id);
        device("cpu", index, "{\"name\": \"pc\", \"type\": \"uint64\", \"size\": 8}, "
                + "{\"name\": \"regs\", \"array_len\": 4, \"type\": \"uint32\", \"size\": 4}, "
                + "{\"name\": \"segs\", \"array_len\": 2, \"type\": \"struct\", \"struct\": {\"vmsd_name\": \"seg\", "
                + "\"version\": 1, \"fields\": [{\"name\": \"base\", \"type\": \"uint64\", \"size\": 8}, "
                + "{\"name\": \"limit\", \"type\": \"uint32\", \"size\": 4}]}, \"size\": 12}",
                "{\"vmsd_name\": \"cpu/extra\", \"version\": 1, \"fields\": [{\"name\": \"extra\", \"type\": "
                + "\"uint16\", \"size\": 2}]}");
        return this;
    }

    /** A device the toy plugin does not read: 3 bytes of fields. */
    TestMigration timer(int id) {
        sectionStart(0x04, id, "timer", 0, 2);
        u16(0x1234).u8(7);
        footer(id);
        device("timer", 0, "{\"name\": \"a\", \"type\": \"uint16\", \"size\": 2}, "
                + "{\"name\": \"b\", \"type\": \"uint8\", \"size\": 1}", null);
        return this;
    }

    private void device(String name, int instance, String fields, String subsection) {
        json.append(devices++ == 0 ? "" : ", ").append("{\"name\": \"").append(name).append("\", \"instance_id\": ")
                .append(instance).append(", \"vmsd_name\": \"").append(name).append("\", \"version\": 1, \"fields\": [")
                .append(fields).append("]");
        if (subsection != null) {
            json.append(", \"subsections\": [").append(subsection).append("]");
        }
        json.append("}");
    }

    /** QEMU_VM_EOF and the JSON description. */
    byte[] finish() {
        u8(0x00);
        byte[] desc = ("{\"page_size\": " + PAGE + ", \"devices\": [" + json + "]}").getBytes(StandardCharsets.UTF_8);
        u8(0x06).u32(desc.length).raw(desc);
        return out.toByteArray();
    }

    static byte[] pattern(int seed) {
        byte[] b = new byte[PAGE];
        for (int i = 0; i < PAGE; i++) {
            b[i] = (byte) (seed * 31 + i * 7 + (i >> 8));
        }
        return b;
    }

    /** A typical stream: setup, two iterations (one page sent twice), the end, a skipped device, two vCPUs. */
    static TestMigration typical() {
        return typical(new TestMigration().header("toy-1.0", false));
    }

    /** {@link #typical()} without the configuration section (QEMU's send-configuration=off), so no machine type. */
    static TestMigration typicalWithoutConfiguration() {
        return typical(new TestMigration().u32(0x5145564d).u32(3));
    }

    private static TestMigration typical(TestMigration m) {
        m.ramSetup(2);
        m.sectionStart(0x01, 6, "toy/keys", 0, 1).u32(3).raw(new byte[] {1, 2, 3}).footer(6);
        m.u8(0x02).u32(2);
        m.page("toy.ram", 0, false, pattern(1));
        m.zero("toy.ram", PAGE, true, 0);
        m.page("toy.ram", 2 * PAGE, true, pattern(2));
        m.zero("toy.ram", 3 * PAGE, true, 0x5a);
        m.page("toy.rom", 0, false, pattern(3));
        m.page("toy.ram", 5 * PAGE, false, pattern(4));
        m.u64(0x10).footer(2);
        m.u8(0x03).u32(2);
        m.page("toy.ram", 2 * PAGE, false, pattern(9)); // sent again: the later copy wins
        m.page("toy.ram", 15 * PAGE, true, pattern(5));
        m.page("toy.rom", PAGE, false, pattern(6));
        m.u64(0x10).footer(2);
        m.u8(0x03).u32(6).u32(0).footer(6);
        m.timer(3).cpu(4, 0, 0xffff0000_00001000L).cpu(5, 1, 0xffff0000_00002000L);
        return m;
    }

    static final ArchitectureRegistry.Loaded TOY = new ArchitectureRegistry.Loaded(new ToyArch(), "toy", "0", null);

    /** Reads {@code toy-*} streams. */
    static final class ToyArch implements ArchitectureSupport {
        @Override
        public String id() {
            return "toy";
        }

        @Override
        public Set<String> machines() {
            return Set.of("toy");
        }

        @Override
        public Set<Integer> elfMachines() {
            return Set.of();
        }

        @Override
        public DumpTarget describe(GuestState guest) {
            return new DumpTarget(TestMachines.EM_X86_64, ElfClass.ELF64, ElfData.LSB, PAGE);
        }

        @Override
        public List<CpuNote> cpuNotes(GuestState guest, DumpTarget target) {
            return List.of(new CpuNote("CORE", NoteType.NT_PRSTATUS, NoteGroup.ARCH, 8,
                    (cpu, out) -> out.putLong(cpu.u64("pc"))));
        }

        @Override
        public List<VcpuState> parseMonitorRegisters(String text, String sourceName) {
            return List.of();
        }

        @Override
        public Set<String> registerNames(String machine) {
            return Set.of("pc", "r0", "r1", "r2", "r3", "seg1.base", "extra");
        }

        @Override
        public List<VcpuState> decodeNotes(List<Note> notes, DumpTarget target) {
            return List.of();
        }

        @Override
        public Set<String> migrationCpuSections() {
            return Set.of("cpu");
        }

        @Override
        public Optional<String> migrationMachine(String machineType, List<MigrationDevice> cpus) {
            return machineType.startsWith("toy-") ? Optional.of("toy") : Optional.empty();
        }

        @Override
        public List<RamBlockMapping> migrationRamLayout(String machineType, String machine, Map<String, Long> blocks) {
            List<RamBlockMapping> out = new ArrayList<>();
            out.add(new RamBlockMapping("toy.ram", 0, RAM_BASE, blocks.getOrDefault("toy.ram", 1L)));
            out.add(new RamBlockMapping("toy.rom", 0, ROM_BASE, blocks.getOrDefault("toy.rom", 1L)));
            return out;
        }

        /** {@code toy/keys}: u32 count, then that many bytes. */
        @Override
        public Set<String> migrationIterativeSections() {
            return Set.of("toy/keys");
        }

        @Override
        public void skipMigrationSection(String idstr, MigrationInput in) {
            in.skip(in.u32("a key count"), "keys");
        }

        @Override
        public VcpuState decodeMigrationCpu(MigrationDevice cpu, String machine) {
            VcpuState.Builder b = VcpuState.builder(cpu.instanceId()).set("pc", cpu.unsigned("pc"));
            for (int i = 0; i < 4; i++) {
                b.set("r" + i, cpu.element("regs", i, 4));
            }
            b.set("seg1.base", cpu.unsigned("segs[1].base"));
            b.set("extra", cpu.unsigned("cpu/extra:extra"));
            b.set("extra.version", cpu.subsections().get("cpu/extra"));
            return b.build();
        }
    }
}
