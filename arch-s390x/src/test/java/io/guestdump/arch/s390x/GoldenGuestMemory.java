package io.guestdump.arch.s390x;

import io.guestdump.core.inspect.VmcoreFile;
import io.guestdump.elf.Note;
import io.guestdump.elf.ProgramHeader;
import io.guestdump.memory.FileRegion;
import io.guestdump.memory.GuestBlock;
import io.guestdump.memory.GuestMemory;
import io.guestdump.memory.PhysRange;
import io.guestdump.testkit.GoldenFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The golden guests' RAM, from QEMU's full dumps (PT_LOADs), kept open for the test run. */
final class GoldenGuestMemory {
    private static final Map<String, VmcoreFile> OPEN = new HashMap<>();

    private GoldenGuestMemory() {}

    static synchronized VmcoreFile file(String arch) throws IOException {
        VmcoreFile f = OPEN.get(arch);
        if (f == null) {
            f = VmcoreFile.open(GoldenFiles.unpackedFull(arch));
            OPEN.put(arch, f);
        }
        return f;
    }

    static GuestMemory memory(String arch) throws IOException {
        VmcoreFile f = file(arch);
        List<GuestBlock> blocks = new ArrayList<>();
        for (ProgramHeader ph : f.loads()) {
            blocks.add(new GuestBlock(PhysRange.ofLength(ph.paddr(), ph.filesz()),
                    new FileRegion(f.channel(), ph.offset(), ph.filesz(), arch + " PT_LOAD"), "ram"));
        }
        return new GuestMemory(blocks);
    }

    /** The VMCOREINFO note QEMU wrote, if any. */
    static Optional<String> qemuVmcoreinfo(String arch) throws IOException {
        for (Note n : file(arch).notes()) {
            if (n.owner().equals("VMCOREINFO")) {
                return Optional.of(new String(n.desc(), StandardCharsets.US_ASCII).replace("\0", ""));
            }
        }
        return Optional.empty();
    }

    static long u32(GuestMemory m, long phys, ByteOrder order) throws IOException {
        return m.readInt(phys, order);
    }

    static String cString(GuestMemory m, long phys, int max) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(max);
        m.read(phys, b);
        String s = new String(b.array(), StandardCharsets.US_ASCII);
        int nul = s.indexOf('\0');
        return nul >= 0 ? s.substring(0, nul) : s;
    }
}
