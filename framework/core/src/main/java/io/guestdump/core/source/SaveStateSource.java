package io.guestdump.core.source;

import io.guestdump.arch.api.ArchitectureSupport;
import io.guestdump.arch.api.GuestState;
import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.arch.api.MigrationDevice;
import io.guestdump.arch.api.MigrationInput;
import io.guestdump.arch.api.RamBlockMapping;
import io.guestdump.arch.api.VcpuState;
import io.guestdump.core.plugins.ArchitectureRegistry;
import io.guestdump.core.source.migration.MigrationStream;
import io.guestdump.memory.BlockData;
import io.guestdump.memory.GuestBlock;
import io.guestdump.memory.GuestMemory;
import io.guestdump.memory.PhysRange;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A guest read from saved VM state: a QEMU migration stream in a file ({@code migrate "exec:cat > FILE"}), bare or
 * behind libvirt's {@code virsh save} header. See {@code docs/savestate-source.md}.
 *
 * <ul>
 *   <li>memory: the stream's RAMBlocks, placed in guest-physical memory by the plugin's
 *       {@code migrationRamLayout} for the machine type the stream names; pages are read from the file through an
 *       index, never buffered;</li>
 *   <li>vCPUs: the plugin's {@code decodeMigrationCpu} of each vCPU section, decoded with the stream's own JSON
 *       description;</li>
 *   <li>VMCOREINFO: where the stream's {@code vmcoreinfo} device section says the guest put it (QEMU's
 *       {@code -device vmcoreinfo}), read from the guest's memory.</li>
 * </ul>
 */
public final class SaveStateSource implements GuestSource {
    /** libvirt's {@code QEMU_SAVE_MAGIC}: a complete {@code virsh save} image. */
    public static final String LIBVIRT_MAGIC = LibvirtSaveImage.QEMU_SAVE_MAGIC;
    /** libvirt's {@code QEMU_SAVE_PARTIAL}: an image whose save did not finish. */
    public static final String LIBVIRT_PARTIAL = LibvirtSaveImage.QEMU_SAVE_PARTIAL;
    /** {@code sizeof(virQEMUSaveHeader)}; the layout is in {@link LibvirtSaveImage}. */
    static final int LIBVIRT_HEADER_SIZE = LibvirtSaveImage.HEADER_SIZE;
    private static final Logger LOG = LoggerFactory.getLogger(SaveStateSource.class);
    /** {@code FW_CFG_VMCOREINFO_FORMAT_ELF}: the guest put an ELF note there. */
    static final int VMCOREINFO_FORMAT_ELF = 1;
    /** The largest VMCOREINFO note read from guest memory. */
    static final long MAX_VMCOREINFO = 1 << 20;

    private final Path file;
    private final Path spoolDir;

    /** Saved state at {@code file}; a compressed libvirt image is decompressed into java.io.tmpdir. */
    public SaveStateSource(Path file) {
        this(file, Path.of(System.getProperty("java.io.tmpdir")));
    }

    /**
     * Saved state at {@code file}.
     *
     * @param spoolDir where a private directory for the decompressed stream of a compressed libvirt image is made
     *                 ({@code guestdump.source.savestate.spool-dir})
     */
    public SaveStateSource(Path file, Path spoolDir) {
        this.file = file.toAbsolutePath().normalize();
        this.spoolDir = spoolDir;
    }

    /** {@code guestdump.source.savestate.spool-dir} of a configuration; empty means java.io.tmpdir. */
    public static Path spoolDir(com.typesafe.config.Config config) {
        String dir = config.getString("guestdump.source.savestate.spool-dir");
        return Path.of(dir.isEmpty() ? System.getProperty("java.io.tmpdir") : dir);
    }

    @Override
    public String describe() {
        return "savestate:" + file;
    }

    /** Whether the first bytes are QEMU's stream magic or libvirt's save-image magic. */
    public static boolean recognise(byte[] head) {
        if (head.length >= 4 && ByteBuffer.wrap(head, 0, 4).order(ByteOrder.BIG_ENDIAN).getInt()
                == MigrationStream.QEMU_VM_FILE_MAGIC) {
            return true;
        }
        return LibvirtSaveImage.recognise(head);
    }

    @Override
    public LoadedGuest open(ArchitectureRegistry registry) {
        return open(registry.all());
    }

    LoadedGuest open(List<ArchitectureRegistry.Loaded> plugins) {
        if (!Files.isRegularFile(file)) {
            throw new InvalidInputException("saved state " + file + " is not a file; give the file written by "
                    + "migrate \"exec:cat > FILE\" or virsh save");
        }
        FileChannel channel;
        try {
            channel = FileChannel.open(file, StandardOpenOption.READ);
        } catch (IOException e) {
            throw new InvalidInputException("cannot open " + file + ": " + e.getMessage(), e);
        }
        try {
            return read(channel, plugins);
        } catch (RuntimeException e) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // already failing
            }
            throw e;
        }
    }

    private LoadedGuest read(FileChannel channel, List<ArchitectureRegistry.Loaded> plugins) {
        long size;
        try {
            size = channel.size();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Optional<LibvirtSaveImage> libvirt = LibvirtSaveImage.read(channel, file);
        if (libvirt.isEmpty()) {
            return readStream(file, channel, 0, size, plugins, List.of(channel));
        }
        LibvirtSaveImage image = libvirt.get();
        LibvirtSaveImage.Header h = image.header();
        if (h.format() == LibvirtSaveImage.SaveFormat.SPARSE) {
            throw new InvalidInputException(file + ": libvirt saved this image in the \"sparse\" format (QEMU's "
                    + "mapped-ram stream, pages at fixed file offsets), which is not read; save with "
                    + "save_image_format = \"raw\" (or a compressed format) in qemu.conf");
        }
        LOG.info("{}: libvirt save image of domain {} ({} bytes of XML, format {}, guest {} before the save)", file,
                image.domain().name(), image.xml().length(), h.format().program(),
                h.wasRunning() ? "running" : "paused");
        if (h.format() == LibvirtSaveImage.SaveFormat.RAW) {
            return readStream(file, channel, h.streamOffset(), size, plugins, List.of(channel), image);
        }
        FileChannel spool = SaveImageSpool.decompress(file, channel, h.streamOffset(), size, h.format(), spoolDir);
        long spoolSize;
        try {
            spoolSize = spool.size();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try {
            return readStream(file, spool, 0, spoolSize, plugins, List.of(spool, channel), image);
        } catch (RuntimeException e) {
            try {
                spool.close();
            } catch (IOException ignored) {
                // already failing
            }
            throw e;
        }
    }

    /**
     * A guest from the QEMU migration stream in {@code [start, size)} of {@code channel}: memory through the page
     * index (read from {@code channel}), vCPUs and VMCOREINFO from the stream's device sections. The live
     * {@code qmp:} source uses it on the background snapshot it received.
     *
     * @param file      the stream's file, for messages
     * @param resources closed with the guest ({@code channel} among them)
     */
    public static LoadedGuest readStream(Path file, FileChannel channel, long start, long size,
            List<ArchitectureRegistry.Loaded> plugins, List<? extends java.io.Closeable> resources) {
        return readStream(file, channel, start, size, plugins, resources, null);
    }

    /**
     * As {@link #readStream(Path, FileChannel, long, long, List, List)}, for the stream of a libvirt save image:
     * the domain XML names the machine type where the stream does not, and its memory size and vCPU count are
     * checked against the stream's (a difference is logged: hot-plugged memory is not placed).
     */
    static LoadedGuest readStream(Path file, FileChannel channel, long start, long size,
            List<ArchitectureRegistry.Loaded> plugins, List<? extends java.io.Closeable> resources,
            LibvirtSaveImage libvirt) {
        String label = file.toString();
        Set<String> keep = new HashSet<>();
        for (ArchitectureRegistry.Loaded l : plugins) {
            keep.addAll(l.arch().migrationCpuSections());
        }
        keep.add("vmcoreinfo");
        Map<String, BiConsumer<String, MigrationInput>> iterative = new HashMap<>();
        for (ArchitectureRegistry.Loaded l : plugins) {
            for (String idstr : l.arch().migrationIterativeSections()) {
                iterative.putIfAbsent(idstr, (id, in) -> plugin(file, l, "skipMigrationSection",
                        () -> {
                            l.arch().skipMigrationSection(id, in);
                            return null;
                        }));
            }
        }
        MigrationStream stream = MigrationStream.read(channel, start, size, label, keep, iterative);
        String machineType = stream.machineType();
        String machineTypeFrom = "the stream's configuration section";
        if (machineType == null && libvirt != null && libvirt.domain().machine() != null) {
            machineType = libvirt.domain().machine();
            machineTypeFrom = "the domain XML (<os><type machine=...>)";
            LOG.info("{}: the stream names no machine type; the domain XML's {} is used", label, machineType);
        } else if (machineType != null && libvirt != null && libvirt.domain().machine() != null
                && !libvirt.domain().machine().equals(machineType)) {
            LOG.warn("{}: the stream's machine type {} differs from the domain XML's {}; the stream's is used", label,
                    machineType, libvirt.domain().machine());
        }
        if (machineType == null) {
            throw new InvalidInputException(label + ": the stream has no configuration section naming the machine "
                    + "type" + (libvirt != null ? ", nor does the libvirt domain XML" : "") + "; it is needed to "
                    + "place RAM in guest-physical memory");
        }
        final String streamMachineType = machineType;

        ArchitectureRegistry.Loaded loaded = null;
        String machine = null;
        List<MigrationDevice> cpuSections = List.of();
        for (ArchitectureRegistry.Loaded l : plugins) {
            List<MigrationDevice> cpus = stream.devices().stream()
                    .filter(d -> l.arch().migrationCpuSections().contains(d.name()))
                    .sorted(Comparator.comparingInt(MigrationDevice::instanceId))
                    .toList();
            Optional<String> m = plugin(file, l, "migrationMachine",
                    () -> l.arch().migrationMachine(streamMachineType, cpus));
            if (m.isPresent()) {
                loaded = l;
                machine = m.get();
                cpuSections = cpus;
                break;
            }
        }
        if (loaded == null) {
            throw new InvalidInputException(label + ": no loaded plugin reads a migration stream of machine type "
                    + machineType + " (sections: " + summary(stream.sections()) + "); plugins loaded: "
                    + plugins.stream().map(ArchitectureRegistry.Loaded::pluginId).toList());
        }
        ArchitectureSupport arch = loaded.arch();
        final ArchitectureRegistry.Loaded plugin = loaded;
        final String guestMachine = machine;

        List<VcpuState> cpus = new ArrayList<>();
        for (MigrationDevice d : cpuSections) {
            cpus.add(plugin(file, plugin, "decodeMigrationCpu", () -> arch.decodeMigrationCpu(d, guestMachine)));
        }
        if (cpus.isEmpty()) {
            throw new InvalidInputException(label + ": the stream holds no vCPU section (" + summary(stream.sections())
                    + ")");
        }

        Map<String, Long> lengths = stream.blockLengths();
        List<RamBlockMapping> layout = plugin(file, plugin, "migrationRamLayout",
                () -> arch.migrationRamLayout(streamMachineType, guestMachine, lengths));
        List<GuestBlock> blocks = new ArrayList<>();
        for (RamBlockMapping m : layout) {
            Long used = lengths.get(m.block());
            if (used == null || m.offset() > used || m.length() > used - m.offset()) {
                throw new InvalidInputException(label + ": " + plugin.pluginId() + " maps bytes 0x"
                        + Long.toHexString(m.offset()) + "+0x" + Long.toHexString(m.length()) + " of RAMBlock "
                        + m.block() + ", which the stream gives " + (used == null ? "no" : "0x" + Long.toHexString(used))
                        + " bytes");
            }
            BlockData data = stream.block(m.block()).slice(m.offset(), m.length());
            blocks.add(new GuestBlock(new PhysRange(m.address(), m.address() + m.length()), data, m.block()));
        }
        GuestMemory memory;
        try {
            memory = new GuestMemory(blocks);
        } catch (IllegalArgumentException e) {
            throw new InvalidInputException(label + ": " + e.getMessage(), e);
        }
        Optional<String> vmcoreinfo = vmcoreinfo(stream, memory);
        Map<String, String> properties = new LinkedHashMap<>();
        properties.put("machine-type", machineType);
        if (libvirt != null) {
            properties.put("machine-type-from", machineTypeFrom);
            describeLibvirt(label, libvirt, lengths, cpus.size(), properties);
        }
        GuestState state = new GuestState(guestMachine, memory, cpus, properties, vmcoreinfo);
        return new LoadedGuest(state, plugin, List.of(), vmcoreinfo.isPresent()
                ? "the stream's vmcoreinfo device (guest memory it points to)" : null, resources);
    }

    /** The domain XML's facts as guest properties; its memory size and vCPU count checked against the stream. */
    private static void describeLibvirt(String label, LibvirtSaveImage libvirt, Map<String, Long> lengths, int cpus,
            Map<String, String> properties) {
        LibvirtSaveImage.DomainInfo d = libvirt.domain();
        properties.put("libvirt-domain", d.name());
        if (d.uuid() != null) {
            properties.put("libvirt-uuid", d.uuid());
        }
        properties.put("libvirt-save-format", libvirt.header().format().program());
        properties.put("libvirt-was-running", Boolean.toString(libvirt.header().wasRunning()));
        if (d.memoryBytes() > 0) {
            properties.put("libvirt-memory", Long.toString(d.memoryBytes()));
            if (!lengths.containsValue(d.memoryBytes())) {
                LOG.warn("{}: the domain XML gives the guest {} bytes of memory, but no RAMBlock of the stream has "
                        + "that size ({}); memory outside the RAMBlocks the plugin places (hot-plugged DIMMs) is not "
                        + "in the dump", label, d.memoryBytes(), lengths);
            }
        }
        if (d.vcpus() > 0 && d.vcpus() != cpus) {
            LOG.info("{}: the domain XML allows {} vCPUs; the stream holds {}", label, d.vcpus(), cpus);
        }
    }

    /** The VMCOREINFO note the guest registered with QEMU's vmcoreinfo device, read from its memory. */
    private static Optional<String> vmcoreinfo(MigrationStream stream, GuestMemory memory) {
        for (MigrationDevice d : stream.devices()) {
            if (!d.name().equals("vmcoreinfo") || !d.has("has_vmcoreinfo") || d.unsigned("has_vmcoreinfo") == 0) {
                continue;
            }
            // FWCfgVMCoreInfo holds little-endian values; the host saved them as its own integers (a
            // little-endian host: the values as they are)
            if (d.unsigned("vmcoreinfo.guest_format") != VMCOREINFO_FORMAT_ELF) {
                return Optional.empty();
            }
            long size = d.unsigned("vmcoreinfo.size");
            long paddr = d.unsigned("vmcoreinfo.paddr");
            if (size < 12 || size > MAX_VMCOREINFO || !memory.isBacked(paddr, size)) {
                return Optional.empty();
            }
            ByteBuffer note = ByteBuffer.allocate((int) size);
            try {
                memory.read(paddr, note);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            for (ByteOrder order : List.of(ByteOrder.LITTLE_ENDIAN, ByteOrder.BIG_ENDIAN)) {
                note.order(order);
                long namesz = Integer.toUnsignedLong(note.getInt(0));
                long descsz = Integer.toUnsignedLong(note.getInt(4));
                long nameEnd = 12 + ((namesz + 3) & ~3L);
                if (namesz == 11 && nameEnd + descsz <= size
                        && new String(note.array(), 12, 10, StandardCharsets.ISO_8859_1).equals("VMCOREINFO")) {
                    return Optional.of(new String(note.array(), (int) nameEnd, (int) descsz, StandardCharsets.UTF_8));
                }
            }
        }
        return Optional.empty();
    }

    private static <T> T plugin(Path file, ArchitectureRegistry.Loaded loaded, String what, PluginCall<T> call) {
        return PluginCall.guarded(file, loaded.pluginId(), what, "stream's state", call);
    }

    private static String summary(List<String> sections) {
        return sections.size() > 12 ? String.join(", ", sections.subList(0, 12)) + ", … (" + sections.size() + ")"
                : String.join(", ", sections);
    }
}
