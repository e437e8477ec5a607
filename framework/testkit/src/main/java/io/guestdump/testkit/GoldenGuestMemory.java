package io.guestdump.testkit;

import io.guestdump.elf.ElfCodec;
import io.guestdump.elf.ElfHeader;
import io.guestdump.elf.Note;
import io.guestdump.elf.ProgramHeader;
import io.guestdump.elf.SegmentType;
import io.guestdump.memory.FileRegion;
import io.guestdump.memory.GuestBlock;
import io.guestdump.memory.GuestMemory;
import io.guestdump.memory.PhysRange;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The golden guests' RAM, from QEMU's full dumps (their PT_LOADs), kept open for the test run. */
public final class GoldenGuestMemory {
    private static final Map<String, GuestMemory> OPEN = new HashMap<>();

    private GoldenGuestMemory() {}

    /** The golden guest's physical memory; skips the calling test when the golden dumps are absent. */
    public static synchronized GuestMemory memory(String arch) throws IOException {
        GuestMemory m = OPEN.get(arch);
        if (m == null) {
            Path elf = GoldenFiles.unpackedFull(arch);
            FileChannel ch = FileChannel.open(elf, StandardOpenOption.READ);
            ByteBuffer head = ByteBuffer.allocate(64);
            ch.read(head, 0);
            head.flip();
            ElfHeader h = ElfCodec.readHeader(head);
            List<GuestBlock> blocks = new ArrayList<>();
            for (int i = 0; i < h.phnum(); i++) {
                ByteBuffer p = ByteBuffer.allocate(h.phentsize()).order(h.data().order());
                ch.read(p, h.phoff() + (long) i * h.phentsize());
                p.flip();
                ProgramHeader ph = ElfCodec.readProgramHeader(p, h.elfClass());
                if (ph.type() == SegmentType.PT_LOAD && ph.filesz() > 0) {
                    blocks.add(new GuestBlock(PhysRange.ofLength(ph.paddr(), ph.filesz()),
                            new FileRegion(ch, ph.offset(), ph.filesz(), arch + " PT_LOAD"), "ram"));
                }
            }
            m = new GuestMemory(blocks);
            OPEN.put(arch, m);
        }
        return m;
    }

    /** The VMCOREINFO note QEMU wrote, if any. */
    public static Optional<String> qemuVmcoreinfo(String arch) throws IOException {
        for (Note n : GoldenVmcore.notes(GoldenFiles.unpackedFull(arch))) {
            if (n.owner().equals("VMCOREINFO")) {
                return Optional.of(new String(n.desc(), StandardCharsets.US_ASCII).replace("\0", ""));
            }
        }
        return Optional.empty();
    }

    /** An unsigned 32-bit value of guest memory. */
    public static long u32(GuestMemory m, long phys, ByteOrder order) throws IOException {
        return m.readInt(phys, order);
    }

    /** A NUL-terminated string of guest memory, at most {@code max} bytes. */
    public static String cString(GuestMemory m, long phys, int max) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(max);
        m.read(phys, b);
        String s = new String(b.array(), StandardCharsets.US_ASCII);
        int nul = s.indexOf('\0');
        return nul >= 0 ? s.substring(0, nul) : s;
    }
}
