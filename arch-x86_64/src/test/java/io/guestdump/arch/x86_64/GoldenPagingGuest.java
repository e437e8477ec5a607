package io.guestdump.arch.x86_64;

import io.guestdump.arch.api.GuestState;
import io.guestdump.arch.api.VcpuState;
import io.guestdump.core.inspect.VmcoreFile;
import io.guestdump.elf.ProgramHeader;
import io.guestdump.memory.FileRegion;
import io.guestdump.memory.GuestBlock;
import io.guestdump.memory.GuestMemory;
import io.guestdump.memory.PhysRange;
import io.guestdump.testkit.GoldenFiles;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A golden guest for page-table walks: its memory is the PT_LOADs of QEMU's paging=false dump
 * ({@code qemu-full.elf}), its vCPUs come from {@code info-registers-a.txt}, and QEMU's paging=true PT_LOADs from
 * {@code qemu-paging-loads.txt}.
 */
final class GoldenPagingGuest implements Closeable {
    /** One line of {@code qemu-paging-loads.txt}. */
    record Load(long offset, long vaddr, long paddr, long filesz, long memsz) {
        @Override
        public String toString() {
            return String.format("paddr %#x vaddr %#x memsz %#x filesz %#x offset %#x", paddr, vaddr, memsz, filesz,
                    offset);
        }
    }

    final VmcoreFile file;
    final GuestState state;
    final List<Load> qemuLoads;

    private GoldenPagingGuest(VmcoreFile file, GuestState state, List<Load> qemuLoads) {
        this.file = file;
        this.state = state;
        this.qemuLoads = qemuLoads;
    }

    /** Opens the golden guest of {@code arch} ("x86_64" or "i386"); skips the test when the files are absent. */
    static GoldenPagingGuest open(String arch) throws IOException {
        Path dir = GoldenFiles.require(arch);
        Path loads = GoldenFiles.require(arch, "qemu-paging-loads.txt");
        Path full = GoldenFiles.unpackedFull(arch);
        VmcoreFile file = VmcoreFile.open(full);
        List<GuestBlock> blocks = new ArrayList<>();
        for (ProgramHeader p : file.loads()) {
            blocks.add(new GuestBlock(PhysRange.ofLength(p.paddr(), p.filesz()),
                    new FileRegion(file.channel(), p.offset(), p.filesz(), full.getFileName().toString()),
                    "load@" + Long.toHexString(p.paddr())));
        }
        List<VcpuState> cpus = X86MonitorParser.parse(Files.readString(dir.resolve("info-registers-a.txt")),
                "info-registers-a.txt", arch.equals("x86_64"));
        GuestState state = new GuestState(arch, new GuestMemory(blocks), cpus, Map.of(), Optional.empty());
        return new GoldenPagingGuest(file, state, parse(loads));
    }

    static List<Load> parse(Path loads) throws IOException {
        List<Load> out = new ArrayList<>();
        for (String line : Files.readAllLines(loads)) {
            if (line.isBlank()) {
                continue;
            }
            String[] f = line.trim().split("\\s+");
            out.add(new Load(hex(f[0]), hex(f[1]), hex(f[2]), hex(f[3]), hex(f[4])));
        }
        return out;
    }

    private static long hex(String s) {
        return Long.parseUnsignedLong(s.startsWith("0x") ? s.substring(2) : s, 16);
    }

    @Override
    public void close() throws IOException {
        file.close();
    }
}
