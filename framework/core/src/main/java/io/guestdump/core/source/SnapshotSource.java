package io.guestdump.core.source;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import io.guestdump.arch.api.ArchitectureSupport;
import io.guestdump.arch.api.GuestState;
import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.arch.api.VcpuState;
import io.guestdump.core.plugins.ArchitectureRegistry;
import io.guestdump.memory.FileRegion;
import io.guestdump.memory.GuestBlock;
import io.guestdump.memory.GuestMemory;
import io.guestdump.memory.PhysRange;
import java.io.Closeable;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * A paused guest described in HOCON; every path in it is relative to the file:
 *
 * <pre>
 * guest {
 *   arch = foo64                             # one of a loaded plugin's machines()
 *   machine-type = pc                        # optional: QEMU's machine type; plugins may decide on it
 *   memory = [ { start = "0x0", size = "0xa0000", file = "ram-0.bin", file-offset = 0 }, ... ]
 *   cpu-state-from = "info-registers-a.txt"  # optional: QEMU `info registers -a` text
 *   cpus = [ { kernel_gs_base = "0xffff..." } ]  # optional per-vCPU values adding to / overriding the text
 *   vmcoreinfo-from = "vmcoreinfo.txt"       # optional: the guest's VMCOREINFO text
 * }
 * </pre>
 */
public final class SnapshotSource implements GuestSource {
    private final Path file;

    /** A snapshot at {@code file}. */
    public SnapshotSource(Path file) {
        this.file = file.toAbsolutePath().normalize();
    }

    @Override
    public String describe() {
        return "snapshot:" + file;
    }

    @Override
    public LoadedGuest open(ArchitectureRegistry registry) {
        SnapshotParser.Parsed parsed = parse();
        Config guest = parsed.root().getConfig("guest");
        Path dir = file.getParent();
        String machine = string(guest, "arch");
        ArchitectureRegistry.Loaded arch = registry.require(machine);
        Map<String, String> properties = new LinkedHashMap<>();
        if (guest.hasPath("machine-type")) {
            properties.put("machine-type", string(guest, "machine-type"));
        }

        List<Closeable> open = new ArrayList<>();
        try {
            GuestMemory memory = new GuestMemory(blocks(parsed, guest, dir, open));
            List<VcpuState> cpus = cpus(parsed, guest, dir, arch.arch(), machine);
            Optional<String> vmcoreinfo = Optional.empty();
            String origin = null;
            if (guest.hasPath("vmcoreinfo-from")) {
                Path p = resolve(dir, guest, "vmcoreinfo-from");
                vmcoreinfo = Optional.of(readText(p, "vmcoreinfo-from"));
                origin = "snapshot file " + p.getFileName();
            }
            GuestState state = new GuestState(machine, memory, cpus, properties, vmcoreinfo);
            return new LoadedGuest(state, arch, List.of(), origin, open);
        } catch (RuntimeException e) {
            closeAll(open);
            if (e instanceof IllegalArgumentException && !(e instanceof InvalidInputException)) {
                throw new InvalidInputException(file + ": " + e.getMessage(), e);
            }
            throw e;
        }
    }

    private SnapshotParser.Parsed parse() {
        if (!Files.exists(file)) {
            throw new InvalidInputException("snapshot " + file + " does not exist; give the path of a guest "
                    + "snapshot (.conf)");
        }
        SourceFiles.requireRegular(file, "snapshot");
        SourceFiles.requireText(file, "snapshot");
        SnapshotParser.Parsed parsed = SnapshotParser.parse(file);
        Config root = parsed.root();
        if (!root.hasPath("guest")) {
            throw new InvalidInputException("snapshot " + file + " has no 'guest { … }' block; see "
                    + "docs/snapshot-format.md");
        }
        if (root.getValue("guest").valueType() != ConfigValueType.OBJECT) {
            throw new InvalidInputException(where(root.getValue("guest")) + ": guest must be a block "
                    + "'guest { arch = …, memory = [ … ] }', not a " + root.getValue("guest").valueType()
                    .name().toLowerCase(java.util.Locale.ROOT) + "; see docs/snapshot-format.md");
        }
        Config guest = root.getConfig("guest");
        Set<String> known = Set.of("arch", "machine-type", "memory", "cpu-state-from", "cpus", "vmcoreinfo-from");
        for (String key : guest.root().keySet()) {
            if (!known.contains(key)) {
                throw new InvalidInputException(where(guest.root().get(key)) + ": unknown key guest." + key
                        + "; known keys: " + new TreeSet<>(known));
            }
        }
        return parsed;
    }

    private List<GuestBlock> blocks(SnapshotParser.Parsed parsed, Config guest, Path dir, List<Closeable> open) {
        if (!guest.hasPath("memory")) {
            throw new InvalidInputException(file + ": guest.memory is missing; list the RAM blocks as "
                    + "[ { start, size, file, file-offset } ]");
        }
        // a long list of plain blocks is read one block at a time (LeanList), anything else as parsed HOCON
        LeanList lean = parsed.list(guest.getValue("memory"));
        List<? extends ConfigObject> list = null;
        if (lean == null) {
            try {
                list = guest.getObjectList("memory");
            } catch (ConfigException.WrongType e) {
                throw new InvalidInputException(where(guest.getValue("memory")) + ": guest.memory must be a list of "
                        + "objects { start, size, file, file-offset }");
            }
        }
        int count = lean != null ? lean.size() : list.size();
        Map<Path, FileChannel> channels = new HashMap<>();
        Map<Path, Long> fileSizes = new HashMap<>();
        Map<Path, String> fileNames = new HashMap<>();
        List<GuestBlock> blocks = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            Config b = lean != null ? lean.element(i, file) : list.get(i).toConfig();
            String where = (lean != null ? file + ":" + lean.line(i) : where(list.get(i))) + ": guest.memory[" + i
                    + "]";
            for (String key : b.root().keySet()) {
                if (!Set.of("start", "size", "file", "file-offset", "name").contains(key)) {
                    throw new InvalidInputException(where + ": unknown key '" + key
                            + "'; a block has start, size, file, file-offset and an optional name");
                }
            }
            long start = ConfigNumbers.unsigned64(b, "start", where);
            long size = ConfigNumbers.unsigned64(b, "size", where);
            long fileOffset = b.hasPath("file-offset") ? ConfigNumbers.unsigned64(b, "file-offset", where) : 0;
            if (size == 0) {
                throw new InvalidInputException(where + ": size is 0; leave the block out instead");
            }
            PhysRange range;
            try {
                range = PhysRange.ofLength(start, size);
            } catch (ArithmeticException e) {
                throw new InvalidInputException(where + ": start " + PhysRange.hex(start) + " + size "
                        + PhysRange.hex(size) + " overflows 64 bits");
            }
            if (!b.hasPath("file")) {
                throw new InvalidInputException(where + ": missing 'file' (the raw file holding the block's bytes)");
            }
            Path p;
            try {
                p = dir.resolve(b.getString("file")).normalize();
            } catch (ConfigException.WrongType | java.nio.file.InvalidPathException e) {
                throw new InvalidInputException(where + ": file must be a path (a string)");
            }
            FileChannel ch = channels.get(p);
            if (ch == null) {
                SourceFiles.requireRegular(p, where + ": file");
                try {
                    ch = FileChannel.open(p, StandardOpenOption.READ);
                } catch (NoSuchFileException e) {
                    throw new InvalidInputException(where + ": file " + p + " does not exist; write the RAM bytes "
                            + "there or fix the path (relative to the snapshot file)");
                } catch (IOException e) {
                    throw new InvalidInputException(where + ": cannot open " + p + ": " + e.getMessage());
                }
                channels.put(p, ch);
                open.add(ch);
            }
            Long knownSize = fileSizes.get(p);
            long fileSize;
            if (knownSize != null) {
                fileSize = knownSize;
            } else {
                try {
                    fileSize = ch.size();
                } catch (IOException e) {
                    throw new InvalidInputException(where + ": cannot read the size of " + p + ": " + e.getMessage());
                }
                fileSizes.put(p, fileSize);
                fileNames.put(p, p.getFileName().toString());
            }
            if (Long.compareUnsigned(fileOffset, fileSize) > 0 || Long.compareUnsigned(size, fileSize - fileOffset) > 0) {
                throw new InvalidInputException(where + ": block " + range + " needs bytes " + PhysRange.hex(fileOffset)
                        + "..0x" + new BigInteger(Long.toUnsignedString(fileOffset))
                                .add(new BigInteger(Long.toUnsignedString(size))).toString(16)
                        + " of " + p.getFileName() + ", which has only " + fileSize
                        + " bytes; fix size or file-offset, or supply the whole file");
            }
            String fileName = fileNames.get(p);
            String name = b.hasPath("name") ? b.getString("name") : fileName;
            blocks.add(new GuestBlock(range, new FileRegion(ch, fileOffset, size, fileName),
                    name + " (guest.memory[" + i + "])"));
        }
        if (blocks.isEmpty()) {
            throw new InvalidInputException(file + ": guest.memory is empty; a guest needs at least one RAM block");
        }
        try {
            new GuestMemory(blocks);
        } catch (IllegalArgumentException e) {
            throw new InvalidInputException(file + ": " + e.getMessage() + "; fix start/size of one of them");
        }
        return blocks;
    }

    private List<VcpuState> cpus(SnapshotParser.Parsed parsed, Config guest, Path dir, ArchitectureSupport arch,
            String machine) {
        List<VcpuState> cpus = new ArrayList<>();
        if (guest.hasPath("cpu-state-from")) {
            Path p = resolve(dir, guest, "cpu-state-from");
            cpus.addAll(arch.parseMonitorRegisters(readText(p, "cpu-state-from"), p.toString()));
        }
        if (guest.hasPath("cpus")) {
            // a long list of vCPUs is read one at a time (LeanList), anything else as parsed HOCON
            LeanList lean = parsed.list(guest.getValue("cpus"));
            List<? extends ConfigObject> list = null;
            if (lean == null) {
                try {
                    list = guest.getObjectList("cpus");
                } catch (ConfigException.WrongType e) {
                    throw new InvalidInputException(where(guest.getValue("cpus")) + ": guest.cpus must be a list of "
                            + "objects of register values");
                }
            }
            int count = lean != null ? lean.size() : list.size();
            if (!cpus.isEmpty() && count > cpus.size()) {
                throw new InvalidInputException(where(guest.getValue("cpus")) + ": guest.cpus has " + count
                        + " entries but cpu-state-from describes " + cpus.size() + " vCPUs; give at most one entry "
                        + "per vCPU");
            }
            Set<String> names = arch.registerNames(machine);
            for (int i = 0; i < count; i++) {
                Map<String, BigInteger> values = new LinkedHashMap<>();
                ConfigObject cpu = lean != null ? lean.element(i, file).root() : list.get(i);
                flatten(cpu, "", "guest.cpus[" + i + "]", names, values, lean != null ? lean.line(i) - 1 : 0);
                if (i < cpus.size()) {
                    cpus.set(i, cpus.get(i).with(values));
                } else {
                    cpus.add(new VcpuState(i, values));
                }
            }
        }
        if (cpus.isEmpty()) {
            throw new InvalidInputException(file + ": the guest has no vCPU; give cpu-state-from (QEMU `info "
                    + "registers -a` text) or cpus = [ { … } ]");
        }
        return cpus;
    }

    private void flatten(ConfigObject obj, String prefix, String where, Set<String> names,
            Map<String, BigInteger> out, int lineOffset) {
        for (Map.Entry<String, ConfigValue> e : obj.entrySet()) {
            String name = prefix + e.getKey();
            ConfigValue v = e.getValue();
            if (v.valueType() == ConfigValueType.OBJECT) {
                flatten((ConfigObject) v, name + ".", where, names, out, lineOffset);
                continue;
            }
            if (!names.contains(name)) {
                throw new InvalidInputException(where(v, lineOffset) + ": " + where + ": unknown register '" + name
                        + "'; known registers: " + new TreeSet<>(names));
            }
            out.put(name, ConfigNumbers.unsigned(v, where(v, lineOffset) + ": " + where + "." + name));
        }
    }

    private Path resolve(Path dir, Config guest, String key) {
        Path p = dir.resolve(guest.getString(key)).normalize();
        if (!Files.exists(p)) {
            throw new InvalidInputException(where(guest.getValue(key)) + ": guest." + key + " = " + p
                    + " does not exist; fix the path (relative to the snapshot file)");
        }
        SourceFiles.requireRegular(p, where(guest.getValue(key)) + ": guest." + key);
        return p;
    }

    /** The largest text file read: {@code info registers -a} of thousands of vCPUs is a few MiB. */
    static final long MAX_TEXT_FILE = 64L << 20;
    /** The largest VMCOREINFO text read: Linux's is one page; the note descriptor is at most 64 KiB. */
    static final long MAX_VMCOREINFO_FILE = 64L << 10;

    private String readText(Path p, String key) {
        long max = key.equals("vmcoreinfo-from") ? MAX_VMCOREINFO_FILE : MAX_TEXT_FILE;
        try {
            long size = Files.size(p);
            if (size > max) {
                throw new InvalidInputException("guest." + key + ": " + p + " is " + size + " bytes, more than the "
                        + max + " a " + (key.equals("vmcoreinfo-from") ? "VMCOREINFO text" : "register text")
                        + " can be; give the right file");
            }
            return Files.readString(p, StandardCharsets.UTF_8);
        } catch (java.nio.charset.MalformedInputException e) {
            throw new InvalidInputException("guest." + key + ": " + p + " is not UTF-8 text; give the text file");
        } catch (IOException e) {
            throw new InvalidInputException("guest." + key + ": cannot read " + p + ": " + e.getMessage());
        }
    }

    private String string(Config c, String key) {
        if (!c.hasPath(key)) {
            throw new InvalidInputException(file + ": guest." + key + " is missing");
        }
        try {
            return c.getString(key);
        } catch (ConfigException.WrongType e) {
            throw new InvalidInputException(where(c.getValue(key)) + ": guest." + key + " must be a string");
        }
    }

    private String where(ConfigValue v) {
        return where(v, 0);
    }

    /** Where {@code v} is, for a value parsed from text that starts {@code lineOffset} lines into the file. */
    private String where(ConfigValue v, int lineOffset) {
        int line = v.origin().lineNumber();
        return line > 0 ? file + ":" + (line + lineOffset) : file.toString();
    }

    private static void closeAll(List<Closeable> open) {
        for (Closeable c : open) {
            try {
                c.close();
            } catch (IOException ignored) {
                // already failing; the first error is the one to report
            }
        }
    }
}
