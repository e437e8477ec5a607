package io.guestdump.arch.ppc64;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.guestdump.arch.api.ArchContext;
import io.guestdump.arch.api.GuestState;
import io.guestdump.arch.api.VcpuState;
import io.guestdump.elf.ElfClass;
import io.guestdump.elf.ElfCodec;
import io.guestdump.elf.ElfHeader;
import io.guestdump.elf.ProgramHeader;
import io.guestdump.elf.SegmentType;
import io.guestdump.memory.ByteArrayData;
import io.guestdump.memory.GuestBlock;
import io.guestdump.memory.GuestMemory;
import io.guestdump.memory.PhysRange;
import io.guestdump.testkit.GoldenFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Shared test helpers: configurations, guests, the golden QEMU 7.2 files of the ppc64le guest. */
final class Ppc64Fixtures {
    static final String GOLDEN = "ppc64le";
    static final String REGISTERS = "info-registers-a.txt";
    static final String FILTER_ODD = "qemu-filter-odd.elf";

    private Ppc64Fixtures() {}

    /** The plugin's reference.conf subtree, as the framework would hand it over. */
    static Config reference() {
        return ConfigFactory.parseResources("reference.conf").resolve().getConfig("guestdump.arch.ppc64");
    }

    /** The reference settings overlaid by HOCON text. */
    static Ppc64Architecture arch(String overrides) {
        Config config = ConfigFactory.parseString(overrides).withFallback(reference()).resolve();
        return new Ppc64Architecture(new ArchContext(config));
    }

    /** The reference settings. */
    static Ppc64Architecture arch() {
        return arch("");
    }

    /** Configured to write what QEMU 7.2 wrote for the golden guest. */
    static Ppc64Architecture qemu72() {
        return arch("byte-order = big, vector-note-owner = CORE");
    }

    /** A guest with one small RAM block and the given vCPUs and properties. */
    static GuestState guest(List<VcpuState> cpus, Map<String, String> properties) {
        GuestMemory memory = new GuestMemory(List.of(
                new GuestBlock(PhysRange.ofLength(0, 4096), new ByteArrayData(new byte[4096]), "ppc_spapr.ram")));
        return new GuestState("ppc64", memory, cpus, properties, Optional.empty());
    }

    static String goldenRegistersText() throws IOException {
        return Files.readString(GoldenFiles.require(GOLDEN, REGISTERS));
    }

    /** The PT_NOTE bytes of the golden file; its e_phoff is 192 because QEMU 7.2 puts section headers first. */
    static byte[] goldenNoteSegment() throws IOException {
        Path path = GoldenFiles.require(GOLDEN, FILTER_ODD);
        byte[] file = Files.readAllBytes(path);
        ByteBuffer in = ByteBuffer.wrap(file);
        ElfHeader header = ElfCodec.readHeader(in);
        for (int i = 0; i < header.phnum(); i++) {
            in.position(Math.toIntExact(header.phoff() + (long) i * ElfClass.ELF64.phdrSize()));
            ProgramHeader ph = ElfCodec.readProgramHeader(in, header.elfClass());
            if (ph.type() == SegmentType.PT_NOTE) {
                int from = Math.toIntExact(ph.offset());
                return Arrays.copyOfRange(file, from, Math.addExact(from, Math.toIntExact(ph.filesz())));
            }
        }
        throw new AssertionError("no PT_NOTE in " + path);
    }
}
