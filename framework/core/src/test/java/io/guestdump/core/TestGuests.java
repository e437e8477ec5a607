package io.guestdump.core;

import io.guestdump.core.config.ConfigLoader;
import io.guestdump.core.config.DumpSettings;
import io.guestdump.core.plugins.ArchitectureRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** Snapshot files for the toy architecture, written into a temp folder. */
final class TestGuests {
    private TestGuests() {}

    /** One block spec: start, size, and a byte pattern seed. */
    record Block(long start, int size) {}

    /** The byte the test guests hold at a physical address (what every block's file contains). */
    static byte byteAt(long paddr) {
        long x = paddr * 0x9E3779B97F4A7C15L;
        return (byte) (x >>> 56 ^ paddr);
    }

    /** Writes a snapshot of the given machine with one file per block and returns its path. */
    static Path snapshot(Path dir, String machine, List<Block> blocks, int cpus) throws IOException {
        StringBuilder mem = new StringBuilder();
        for (int i = 0; i < blocks.size(); i++) {
            Block b = blocks.get(i);
            byte[] data = new byte[b.size()];
            for (int j = 0; j < data.length; j++) {
                data[j] = byteAt(b.start() + j);
            }
            Files.write(dir.resolve("b" + i + ".bin"), data);
            mem.append("    { start = \"0x").append(Long.toHexString(b.start())).append("\", size = ")
                    .append(b.size()).append(", file = \"b").append(i).append(".bin\" }\n");
        }
        StringBuilder regs = new StringBuilder();
        for (int c = 0; c < cpus; c++) {
            regs.append("CPU#").append(c).append("\nPC=").append(Long.toHexString(0x1000 + c)).append(" SP=")
                    .append(Long.toHexString(0x8000 + c)).append("\n");
        }
        Files.writeString(dir.resolve("regs.txt"), regs);
        Files.writeString(dir.resolve("vmcoreinfo.txt"), "OSRELEASE=6.1.0-toy\nPAGESIZE=4096\n");
        Path conf = dir.resolve("guest.conf");
        Files.writeString(conf, "guest {\n  arch = " + machine + "\n  memory = [\n" + mem
                + "  ]\n  cpu-state-from = regs.txt\n  vmcoreinfo-from = vmcoreinfo.txt\n}\n");
        return conf;
    }

    /** Settings from the reference configuration with overrides. */
    static DumpSettings settings(Path dir, Map<String, String> overrides) {
        var user = ConfigLoader.userLayers(null, List.of(), overrides);
        var full = ConfigLoader.withReference(user, TestGuests.class.getClassLoader());
        return DumpSettings.from(full, dir, dir);
    }

    /** A registry with only class-path extensions (the toy architecture). */
    static ArchitectureRegistry registry() {
        return ArchitectureRegistry.load(List.of(), List.of(), com.typesafe.config.ConfigFactory.empty());
    }
}
