package io.guestdump.arch.arm;

import com.typesafe.config.ConfigFactory;
import io.guestdump.arch.api.ArchContext;
import io.guestdump.arch.api.CpuNote;
import io.guestdump.arch.api.DumpTarget;
import io.guestdump.arch.api.GuestState;
import io.guestdump.arch.api.VcpuState;
import io.guestdump.core.notes.NoteSegmentBuilder;
import io.guestdump.elf.ElfClass;
import io.guestdump.elf.ElfCodec;
import io.guestdump.elf.ElfHeader;
import io.guestdump.elf.Note;
import io.guestdump.elf.NoteEncoder;
import io.guestdump.elf.ProgramHeader;
import io.guestdump.elf.SegmentType;
import io.guestdump.memory.BlockData;
import io.guestdump.memory.ByteArrayData;
import io.guestdump.memory.GuestBlock;
import io.guestdump.memory.GuestMemory;
import io.guestdump.memory.PhysRange;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Test helpers: the plugin with its reference config, small guests, note building, golden PT_NOTE reading. */
final class ArmTestGuests {
    /** arm virt RAM base. */
    static final long RAM_BASE = 0x4000_0000L;

    private ArmTestGuests() {}

    static ArmArchitecture plugin() {
        return plugin("");
    }

    static ArmArchitecture plugin(String overrides) {
        return new ArmArchitecture(new ArchContext(ConfigFactory.parseString(overrides)
                .withFallback(ConfigFactory.parseResources("reference.conf"))
                .resolve()
                .getConfig("guestdump.arch.arm")));
    }

    static GuestMemory smallMemory() {
        return new GuestMemory(List.of(new GuestBlock(PhysRange.ofLength(RAM_BASE, 4096),
                new ByteArrayData(new byte[4096]), "mach-virt.ram")));
    }

    static GuestState guest(String machine, List<VcpuState> cpus) {
        return guest(machine, cpus, null);
    }

    static GuestState guest(String machine, List<VcpuState> cpus, String vmcoreinfo) {
        return new GuestState(machine, smallMemory(), cpus, Map.of(), Optional.ofNullable(vmcoreinfo));
    }

    /** Data of any size that reads as zeros, for blocks too big for a byte array. */
    static BlockData zeros(long size) {
        return new BlockData() {
            @Override
            public long size() {
                return size;
            }

            @Override
            public void read(long offset, ByteBuffer dst) {
                while (dst.hasRemaining()) {
                    dst.put((byte) 0);
                }
            }
        };
    }

    /** The notes the framework would write for this guest, without VMCOREINFO unless given. */
    static List<Note> notes(ArmArchitecture plugin, GuestState guest, String vmcoreinfo) {
        DumpTarget target = plugin.describe(guest);
        List<CpuNote> table = plugin.cpuNotes(guest, target);
        return NoteSegmentBuilder.build(table, guest.cpus(), target, vmcoreinfo, List.of());
    }

    static List<Note> notes(ArmArchitecture plugin, GuestState guest) {
        return notes(plugin, guest, null);
    }

    /** The PT_NOTE bytes of a vmcore and its header. */
    record NoteSegment(ElfHeader header, byte[] bytes) {}

    static NoteSegment readPtNote(Path vmcore) throws IOException {
        byte[] file = Files.readAllBytes(vmcore);
        ByteBuffer buf = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        ElfHeader h = ElfCodec.readHeader(buf);
        ElfClass c = h.elfClass();
        for (int i = 0; i < h.phnum(); i++) {
            buf.position(Math.toIntExact(h.phoff() + (long) i * c.phdrSize()));
            ProgramHeader p = ElfCodec.readProgramHeader(buf, c);
            if (p.type() == SegmentType.PT_NOTE) {
                int from = Math.toIntExact(p.offset());
                return new NoteSegment(h, Arrays.copyOfRange(file, from, from + Math.toIntExact(p.filesz())));
            }
        }
        throw new AssertionError("no PT_NOTE in " + vmcore);
    }

    static byte[] encode(List<Note> notes, DumpTarget target) {
        return NoteEncoder.encode(notes, target.data());
    }
}
