package io.guestdump.core.source;

import io.guestdump.arch.api.ArchitectureSupport;
import io.guestdump.arch.api.CpuNote;
import io.guestdump.arch.api.DumpTarget;
import io.guestdump.arch.api.GuestState;
import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.arch.api.VcpuState;
import io.guestdump.core.inspect.VmcoreFile;
import io.guestdump.core.notes.NoteSegmentBuilder;
import io.guestdump.core.plugins.ArchitectureRegistry;
import io.guestdump.elf.ElfCodec;
import io.guestdump.elf.ElfHeader;
import io.guestdump.elf.Note;
import io.guestdump.memory.GuestBlock;
import io.guestdump.memory.GuestMemory;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * A guest read back from an ELF vmcore (ours, QEMU's, or any ELF32/ELF64, LSB/MSB core with PT_LOADs), through the
 * validating {@link VmcoreFile} reader:
 *
 * <ul>
 *   <li>memory: every PT_LOAD becomes guest-physical memory, streamed from the file (see {@link LoadBlocks} for
 *       zero-filled tails and aliasing segments);</li>
 *   <li>plugin: the one whose {@code elfMachines()} holds {@code e_machine}; the guest's machine name is its
 *       {@code machineFor(target)} of the file's class, byte order and machine;</li>
 *   <li>vCPUs: the plugin's {@code decodeNotes} of every note except VMCOREINFO;</li>
 *   <li>VMCOREINFO: the first note owned by {@code VMCOREINFO} is kept as it is (its descriptor is the text);</li>
 *   <li>other notes: those whose owner and type the plugin's note table does not produce are carried into the
 *       output unchanged; the ones it does produce are written anew from the decoded vCPUs, never twice (CORE
 *       and LINUX count as one owner here).</li>
 * </ul>
 *
 * Section headers are not trusted: only section header 0 is read, for the PN_XNUM count.
 */
public final class ElfVmcoreSource implements GuestSource {
    /** The page size assumed for decoding when VMCOREINFO gives none (the output's is the plugin's choice). */
    static final long DEFAULT_PAGE_SIZE = 4096;

    private final Path file;

    /** A vmcore at {@code file}. */
    public ElfVmcoreSource(Path file) {
        this.file = file.toAbsolutePath().normalize();
    }

    @Override
    public String describe() {
        return "elf:" + file;
    }

    @Override
    public LoadedGuest open(ArchitectureRegistry registry) {
        return open(registry.all());
    }

    /** Opens the vmcore with the first of {@code plugins} that reads its {@code e_machine}. */
    LoadedGuest open(List<ArchitectureRegistry.Loaded> plugins) {
        VmcoreFile vmcore = VmcoreFile.open(file);
        try {
            return read(vmcore, plugins);
        } catch (RuntimeException e) {
            try {
                vmcore.close();
            } catch (IOException ignored) {
                // already failing; the first error is the one to report
            }
            throw e;
        }
    }

    private LoadedGuest read(VmcoreFile vmcore, List<ArchitectureRegistry.Loaded> plugins) {
        ElfHeader h = vmcore.header();
        ArchitectureRegistry.Loaded loaded = plugins.stream()
                .filter(l -> l.arch().elfMachines().contains(h.machine()))
                .findFirst()
                .orElseThrow(() -> new InvalidInputException(file + ": e_machine=" + h.machine() + " ("
                        + ElfCodec.hex(h.machine()) + "): no loaded plugin reads vmcores of this machine; plugins "
                        + "loaded: " + describePlugins(plugins) + ". Add the architecture's plugin jar or fix the "
                        + "file"));
        ArchitectureSupport arch = loaded.arch();
        GuestMemory memory = memory(vmcore);

        String vmcoreinfo = null;
        List<Note> cpuNotes = new ArrayList<>();
        for (Note n : vmcore.notes()) {
            if (vmcoreinfo == null && n.owner().equals(NoteSegmentBuilder.VMCOREINFO_OWNER)) {
                Optional<String> text = utf8(n.desc());
                if (text.isPresent()) {
                    vmcoreinfo = text.get();
                    continue;
                }
            }
            cpuNotes.add(n);
        }
        DumpTarget target = new DumpTarget(h.machine(), h.elfClass(), h.data(), pageSize(vmcoreinfo));
        String machine = plugin(loaded, "machineFor", () -> arch.machineFor(target));
        List<VcpuState> cpus = plugin(loaded, "decodeNotes", () -> arch.decodeNotes(cpuNotes, target));
        if (cpus.isEmpty()) {
            throw new InvalidInputException(file + ": the notes hold no vCPU state " + loaded.pluginId()
                    + " recognises (notes: " + summary(cpuNotes) + "); a vmcore has a CPU note per vCPU");
        }
        GuestState state = new GuestState(machine, memory, cpus, Map.of(), Optional.ofNullable(vmcoreinfo));

        Set<String> written = new HashSet<>();
        List<CpuNote> table = plugin(loaded, "cpuNotes", () -> arch.cpuNotes(state, arch.describe(state)));
        for (CpuNote row : table) {
            written.add(key(row.owner(), row.type()));
        }
        List<Note> carried = cpuNotes.stream().filter(n -> !written.contains(key(n.owner(), n.type()))).toList();
        return new LoadedGuest(state, loaded, carried, vmcoreinfo == null ? null : "source vmcore", List.of(vmcore));
    }

    private GuestMemory memory(VmcoreFile vmcore) {
        List<GuestBlock> blocks = LoadBlocks.build(vmcore);
        try {
            return new GuestMemory(blocks);
        } catch (IllegalArgumentException e) {
            throw new InvalidInputException(file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Runs plugin code on data from the file. Index and buffer errors inside a plugin mean the notes are not what
     * it expects: they are reported as invalid input naming the plugin.
     */
    private <T> T plugin(ArchitectureRegistry.Loaded loaded, String what, PluginCall<T> call) {
        return PluginCall.guarded(file, loaded.pluginId(), what, "file's notes", call);
    }

    /** The page size from VMCOREINFO's {@code PAGESIZE=}, else {@value #DEFAULT_PAGE_SIZE}. */
    static long pageSize(String vmcoreinfo) {
        if (vmcoreinfo != null) {
            for (String line : vmcoreinfo.split("\n")) {
                if (line.startsWith("PAGESIZE=")) {
                    try {
                        long v = Long.parseLong(line.substring("PAGESIZE=".length()).trim());
                        if (v > 0 && Long.bitCount(v) == 1) {
                            return v;
                        }
                    } catch (NumberFormatException ignored) {
                        // not a number: use the default
                    }
                }
            }
        }
        return DEFAULT_PAGE_SIZE;
    }

    /** The descriptor as text when it is valid UTF-8 (so that it re-encodes to the same bytes). */
    private static Optional<String> utf8(byte[] desc) {
        try {
            return Optional.of(StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(desc)).toString());
        } catch (CharacterCodingException e) {
            return Optional.empty();
        }
    }

    /**
     * Which notes the plugin re-creates: owner and type, where CORE and LINUX count as one owner. Linux core files
     * name the same register sets either way (QEMU writes some vector register sets as CORE, Linux and binutils use
     * LINUX), so a note the plugin writes under the other of the two names is still its own and not carried.
     */
    private static String key(String owner, int type) {
        String family = owner.equals("CORE") || owner.equals("LINUX") ? "CORE|LINUX" : owner;
        return family + "/" + type;
    }

    private static String summary(List<Note> notes) {
        Map<String, Integer> counts = new TreeMap<>();
        for (Note n : notes) {
            counts.merge(n.owner() + " type " + ElfCodec.hex(Integer.toUnsignedLong(n.type())), 1, Integer::sum);
        }
        return counts.isEmpty() ? "none" : counts.toString();
    }

    private static String describePlugins(List<ArchitectureRegistry.Loaded> plugins) {
        List<String> out = new ArrayList<>();
        for (ArchitectureRegistry.Loaded l : plugins) {
            out.add(l.pluginId() + " " + l.arch().elfMachines());
        }
        return out.isEmpty() ? "none" : String.join(", ", out);
    }
}
