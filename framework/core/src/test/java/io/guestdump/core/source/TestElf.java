package io.guestdump.core.source;

import io.guestdump.arch.api.DumpTarget;
import io.guestdump.arch.api.GuestState;
import io.guestdump.arch.api.VcpuState;
import io.guestdump.core.ToyArchitecture;
import io.guestdump.core.notes.NoteSegmentBuilder;
import io.guestdump.core.plugins.ArchitectureRegistry;
import io.guestdump.core.vmcore.ProgressListener;
import io.guestdump.core.vmcore.VmcoreLayout;
import io.guestdump.core.vmcore.VmcoreWriter;
import io.guestdump.elf.ElfClass;
import io.guestdump.elf.ElfCodec;
import io.guestdump.elf.ElfConstants;
import io.guestdump.elf.ElfData;
import io.guestdump.elf.ElfHeader;
import io.guestdump.elf.ElfType;
import io.guestdump.core.TestMachines;
import io.guestdump.elf.Note;
import io.guestdump.elf.NoteEncoder;
import io.guestdump.elf.ProgramHeader;
import io.guestdump.elf.SectionHeader;
import io.guestdump.elf.SegmentType;
import io.guestdump.memory.ByteArrayData;
import io.guestdump.memory.GuestBlock;
import io.guestdump.memory.GuestMemory;
import io.guestdump.memory.MemoryMapping;
import io.guestdump.memory.PhysRange;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Hand-made ELF vmcores for reader tests, and the toy architecture as a directly constructed plugin. */
public final class TestElf {
    private TestElf() {}

    /** The toy plugin without PF4J. */
    static final ArchitectureRegistry.Loaded TOY =
            new ArchitectureRegistry.Loaded(new ToyArchitecture(), "toy", "0", null);

    /** A PT_LOAD: {@code offset} counts from the start of the data area; a negative one is written all ones. */
    public record Load(long offset, long paddr, long filesz, long memsz) {}

    /** The byte every test guest holds at a physical address. */
    static byte byteAt(long paddr) {
        long x = paddr * 0x9E3779B97F4A7C15L;
        return (byte) (x >>> 56 ^ paddr);
    }

    /** {@code length} bytes of the test pattern starting at {@code paddr}. */
    public static byte[] pattern(long paddr, int length) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) {
            b[i] = byteAt(paddr + i);
        }
        return b;
    }

    /** Toy notes for {@code cpus} vCPUs (pc = 0x1000 + i, sp = 0x8000 + i) and an optional VMCOREINFO. */
    public static List<Note> toyNotes(DumpTarget target, int cpus, String vmcoreinfo, List<Note> carried) {
        List<VcpuState> states = new ArrayList<>();
        for (int i = 0; i < cpus; i++) {
            states.add(VcpuState.builder(i).set("pc", 0x1000 + i).set("sp", 0x8000 + i).build());
        }
        GuestState g = new GuestState("toy64", new GuestMemory(List.of()), states, Map.of(), Optional.empty());
        return NoteSegmentBuilder.build(new ToyArchitecture().cpuNotes(g, target), states, target, vmcoreinfo,
                carried);
    }

    /** The toy target of a class and byte order. */
    public static DumpTarget toyTarget(ElfClass c, ElfData d) {
        return new DumpTarget(TestMachines.EM_RISCV, c, d, 4096);
    }

    /**
     * A vmcore as guestdump writes it: the given blocks (test pattern bytes), toy notes, VMCOREINFO, extra notes.
     */
    static byte[] ours(DumpTarget target, List<PhysRange> ranges, String vmcoreinfo, List<Note> carried)
            throws IOException {
        List<GuestBlock> blocks = new ArrayList<>();
        List<MemoryMapping> mappings = new ArrayList<>();
        for (PhysRange r : ranges) {
            blocks.add(new GuestBlock(r, new ByteArrayData(pattern(r.start(), (int) r.length())), "test"));
            mappings.add(new MemoryMapping(r.start(), r.start(), r.length()));
        }
        byte[] notes = NoteEncoder.encode(toyNotes(target, 2, vmcoreinfo, carried), target.data());
        VmcoreLayout layout = VmcoreLayout.plan(target, notes.length, mappings, blocks);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        VmcoreWriter.write(layout, notes, Channels.newChannel(out), ProgressListener.NONE);
        return out.toByteArray();
    }

    /**
     * A vmcore in either layout: {@code qemu72} puts QEMU 7.2's section headers first (NULL and {@code .shstrtab},
     * the latter little-endian whatever the file's order), sets e_ehsize to 8 and ends with the string table.
     * PT_LOAD offsets count from the data area, which follows the notes.
     */
    public static byte[] build(DumpTarget target, List<Note> notes, List<Load> loads, byte[] data, boolean qemu72) {
        ElfClass c = target.elfClass();
        byte[] noteBytes = NoteEncoder.encode(notes, target.data());
        int shnum = qemu72 ? 2 : 0;
        long phoff = c.ehdrSize() + (long) shnum * c.shdrSize();
        long noteOffset = phoff + (long) (1 + loads.size()) * c.phdrSize();
        long dataOffset = noteOffset + noteBytes.length;
        long strtabOffset = dataOffset + data.length;
        byte[] strtab = qemu72 ? "\0.shstrtab\0".getBytes(java.nio.charset.StandardCharsets.US_ASCII) : new byte[0];
        ByteBuffer out = target.data().allocate(Math.toIntExact(strtabOffset + strtab.length));
        ElfCodec.writeHeader(out, new ElfHeader(c, target.data(), ElfType.ET_CORE, target.machine(),
                ElfConstants.EV_CURRENT, 0, phoff, qemu72 ? c.ehdrSize() : 0, 0, qemu72 ? 8 : c.ehdrSize(),
                c.phdrSize(), 1 + loads.size(), qemu72 ? c.shdrSize() : 0, shnum, qemu72 ? 1 : 0));
        if (qemu72) {
            ElfCodec.writeSectionHeader(out, c, new SectionHeader(0, 0, 0, 0, 0, 0, 0, 0, 0, 0));
            // QEMU 7.2 writes this one in the host's (little-endian) order even in a big-endian file
            ByteBuffer le = out.duplicate().order(ByteOrder.LITTLE_ENDIAN);
            ElfCodec.writeSectionHeader(le, c, new SectionHeader(1, 3, 0, 0, strtabOffset, strtab.length, 0, 0, 1,
                    0));
            out.position(le.position());
        }
        ElfCodec.writeProgramHeader(out, c, new ProgramHeader(SegmentType.PT_NOTE, 0, noteOffset, 0, 0,
                noteBytes.length, noteBytes.length, 0));
        for (Load l : loads) {
            long offset = l.offset() < 0 ? (c == ElfClass.ELF64 ? -1L : 0xffff_ffffL) : dataOffset + l.offset();
            ElfCodec.writeProgramHeader(out, c, new ProgramHeader(SegmentType.PT_LOAD, 0, offset,
                    l.paddr(), l.paddr(), l.filesz(), l.memsz(), 0));
        }
        out.put(noteBytes);
        out.put(data);
        out.put(strtab);
        return out.array();
    }
}
