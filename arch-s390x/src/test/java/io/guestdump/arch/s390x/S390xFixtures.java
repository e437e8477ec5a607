package io.guestdump.arch.s390x;

import com.typesafe.config.ConfigFactory;
import io.guestdump.arch.api.ArchContext;
import io.guestdump.arch.api.DumpTarget;
import io.guestdump.arch.api.GuestState;
import io.guestdump.arch.api.VcpuState;
import io.guestdump.core.notes.NoteSegmentBuilder;
import io.guestdump.elf.ElfCodec;
import io.guestdump.elf.ElfHeader;
import io.guestdump.elf.Note;
import io.guestdump.elf.NoteEncoder;
import io.guestdump.elf.ProgramHeader;
import io.guestdump.elf.SegmentType;
import io.guestdump.memory.ByteArrayData;
import io.guestdump.memory.GuestBlock;
import io.guestdump.memory.GuestMemory;
import io.guestdump.memory.PhysRange;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Shared test helpers: the plugin, a small guest, note encoding, the golden PT_NOTE. */
final class S390xFixtures {
    /** Bytes of one vCPU's ten notes: 20-byte header+name per note plus the descriptors. */
    static final int NOTES_PER_CPU_BYTES = 1240;

    private S390xFixtures() {}

    static S390xArchitecture arch() {
        return new S390xArchitecture(new ArchContext(
                ConfigFactory.defaultReference().getConfig("guestdump.arch." + S390xArchitecture.ID)));
    }

    static GuestState guest(List<VcpuState> cpus) {
        GuestMemory memory = new GuestMemory(List.of(
                new GuestBlock(PhysRange.ofLength(0, 4096), new ByteArrayData(new byte[4096]), "s390.ram")));
        return new GuestState("s390x", memory, cpus, Map.of(), Optional.empty());
    }

    static DumpTarget target() {
        return arch().describe(guest(List.of()));
    }

    /** The notes the framework would build for these vCPUs. */
    static List<Note> notes(List<VcpuState> cpus) {
        S390xArchitecture arch = arch();
        GuestState guest = guest(cpus);
        DumpTarget target = arch.describe(guest);
        return NoteSegmentBuilder.build(arch.cpuNotes(guest, target), cpus, target, null, List.of());
    }

    /** The PT_NOTE payload for these vCPUs. */
    static byte[] segment(List<VcpuState> cpus) {
        return NoteEncoder.encode(notes(cpus), target().data());
    }

    /** The PT_NOTE payload of a QEMU vmcore. */
    static byte[] ptNote(Path vmcore) throws IOException {
        return io.guestdump.testkit.GoldenVmcore.noteSegment(vmcore);
    }

    /** Offset in the segment of vCPU {@code cpu}'s note number {@code note} descriptor (0 = NT_PRSTATUS). */
    static int descOffset(int cpu, int note) {
        int at = cpu * NOTES_PER_CPU_BYTES;
        for (int i = 0; i < note; i++) {
            at += 20 + S390xNoteTable.ROWS.get(i).descSize();
        }
        return at + 20;
    }
}
