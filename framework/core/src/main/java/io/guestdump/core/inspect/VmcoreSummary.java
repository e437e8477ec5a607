package io.guestdump.core.inspect;

import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValueFactory;
import io.guestdump.arch.api.DumpTarget;
import io.guestdump.arch.api.GuestDumpException;
import io.guestdump.arch.api.VcpuState;
import io.guestdump.core.notes.NoteSegmentBuilder;
import io.guestdump.core.paging.PagingNote;
import io.guestdump.core.plugins.ArchitectureRegistry;
import io.guestdump.elf.ElfCodec;
import io.guestdump.elf.Note;
import io.guestdump.elf.NoteType;
import io.guestdump.elf.ProgramHeader;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What {@code guestdump info} shows: class, byte order, machine, vCPUs with their notes and registers (decoded by
 * the architecture's plugin), loads, VMCOREINFO. As text or JSON.
 */
public final class VmcoreSummary {
    /** The text form lists this many loads; JSON lists all. */
    static final int TEXT_LOADS = 32;

    private final Map<String, Object> tree;

    private VmcoreSummary(Map<String, Object> tree) {
        this.tree = tree;
    }

    /** Summarises an open vmcore; registers are decoded when a plugin reads this {@code e_machine}. */
    public static VmcoreSummary of(VmcoreFile file, ArchitectureRegistry registry) {
        Map<String, Object> t = new LinkedHashMap<>();
        var h = file.header();
        t.put("file", file.path().toString());
        t.put("size", file.size());
        t.put("class", h.elfClass().name());
        t.put("byte-order", h.data().name());
        t.put("machine", registry.elfMachineName(h.machine()));
        t.put("e-phnum", h.phnum());
        t.put("program-headers", file.phnum());
        t.put("warnings", file.warnings());

        List<Note> cpuNotes = new ArrayList<>();
        Optional<Note> vmcoreinfo = Optional.empty();
        Map<String, Object> paging = new LinkedHashMap<>();
        for (Note n : file.notes()) {
            if (n.owner().equals(NoteSegmentBuilder.VMCOREINFO_OWNER) && n.type() == NoteType.NT_VMCOREINFO) {
                vmcoreinfo = Optional.of(n);
            } else if (PagingNote.is(n)) {
                PagingNote.parse(n).ifPresent(paging::putAll);
            } else {
                cpuNotes.add(n);
            }
        }
        List<Object> notes = new ArrayList<>();
        for (Note n : file.notes()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("owner", n.owner());
            m.put("type", n.type());
            m.put("size", n.descSize());
            notes.add(m);
        }
        t.put("notes", notes);

        Optional<ArchitectureRegistry.Loaded> arch = registry.forElfMachine(h.machine());
        List<Object> cpus = new ArrayList<>();
        if (arch.isPresent()) {
            DumpTarget target = new DumpTarget(h.machine(), h.elfClass(), h.data(), 4096);
            t.put("architecture", arch.get().arch().machineFor(target));
            t.put("plugin", arch.get().pluginId());
            List<VcpuState> states;
            try {
                states = arch.get().arch().decodeNotes(cpuNotes, target);
            } catch (GuestDumpException | IllegalArgumentException e) {
                throw new io.guestdump.arch.api.InvalidInputException(file.path() + ": CPU notes do not decode: "
                        + e.getMessage(), e);
            }
            for (VcpuState s : states) {
                Map<String, Object> c = new LinkedHashMap<>();
                c.put("index", s.index());
                Map<String, Object> regs = new LinkedHashMap<>();
                for (Map.Entry<String, BigInteger> r : s.registers().entrySet()) {
                    regs.put(r.getKey(), "0x" + r.getValue().toString(16));
                }
                c.put("registers", regs);
                cpus.add(c);
            }
        } else {
            t.put("architecture", "unknown (no plugin reads " + registry.elfMachineName(h.machine()) + ")");
        }
        t.put("cpus", cpus);

        List<Object> loads = new ArrayList<>();
        long stored = 0;
        for (ProgramHeader p : file.loads()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("offset", hexU(p.offset()));
            m.put("vaddr", hexU(p.vaddr()));
            m.put("paddr", hexU(p.paddr()));
            m.put("filesz", hexU(p.filesz()));
            m.put("memsz", hexU(p.memsz()));
            loads.add(m);
            stored += p.filesz();
        }
        t.put("loads", loads);
        t.put("memory-bytes", stored);
        Map<String, Object> vi = new LinkedHashMap<>();
        vi.put("present", vmcoreinfo.isPresent());
        vmcoreinfo.ifPresent(n -> {
            String text = new String(n.desc(), StandardCharsets.UTF_8);
            vi.put("size", n.descSize());
            for (String line : text.split("\n")) {
                if (line.startsWith("OSRELEASE=")) {
                    vi.put("osrelease", line.substring("OSRELEASE=".length()));
                }
            }
        });
        t.put("vmcoreinfo", vi);
        if (!paging.isEmpty()) {
            t.put("paging", paging);
        }
        return new VmcoreSummary(t);
    }

    private static String hexU(long v) {
        return ElfCodec.hex(v);
    }

    /** The summary as a JSON document. */
    public String toJson() {
        return ConfigValueFactory.fromMap(tree).render(ConfigRenderOptions.concise().setJson(true)) + "\n";
    }

    /** The summary as readable text. */
    @SuppressWarnings("unchecked")
    public String toText() {
        StringBuilder sb = new StringBuilder();
        sb.append(tree.get("file")).append(": ").append(tree.get("class")).append(' ').append(tree.get("byte-order"))
                .append(" core, ").append(tree.get("machine")).append(", architecture ").append(tree.get("architecture"))
                .append('\n');
        sb.append("  size ").append(tree.get("size")).append(" bytes, ").append(tree.get("memory-bytes"))
                .append(" bytes of guest memory in ").append(((List<?>) tree.get("loads")).size())
                .append(" PT_LOADs");
        if ((int) tree.get("e-phnum") == 0xffff) {
            sb.append(" (PN_XNUM: ").append(tree.get("program-headers")).append(" program headers)");
        }
        sb.append('\n');
        for (Object w : (List<Object>) tree.get("warnings")) {
            sb.append("  warning: ").append(w).append('\n');
        }
        List<Object> notes = (List<Object>) tree.get("notes");
        sb.append("  notes: ").append(notes.size()).append('\n');
        for (Object n : notes) {
            Map<String, Object> m = (Map<String, Object>) n;
            sb.append("    ").append(m.get("owner")).append(" type 0x")
                    .append(Integer.toHexString((int) m.get("type"))).append(", ").append(m.get("size"))
                    .append(" bytes\n");
        }
        List<Object> cpus = (List<Object>) tree.get("cpus");
        sb.append("  vCPUs: ").append(cpus.size()).append('\n');
        for (Object o : cpus) {
            Map<String, Object> c = (Map<String, Object>) o;
            sb.append("    CPU ").append(c.get("index")).append(":");
            int col = 0;
            for (Map.Entry<String, Object> r : ((Map<String, Object>) c.get("registers")).entrySet()) {
                if (col++ % 4 == 0) {
                    sb.append("\n     ");
                }
                sb.append(' ').append(String.format("%-16s", r.getKey() + "=" + r.getValue()));
            }
            sb.append('\n');
        }
        sb.append("  loads:\n");
        List<Object> loads = (List<Object>) tree.get("loads");
        for (Object o : loads.subList(0, Math.min(loads.size(), TEXT_LOADS))) {
            Map<String, Object> m = (Map<String, Object>) o;
            sb.append("    paddr ").append(m.get("paddr")).append(" vaddr ").append(m.get("vaddr"))
                    .append(" offset ").append(m.get("offset")).append(" filesz ").append(m.get("filesz"))
                    .append(" memsz ").append(m.get("memsz")).append('\n');
        }
        if (loads.size() > TEXT_LOADS) {
            sb.append("    … ").append(loads.size() - TEXT_LOADS).append(" more (all of them with --json)\n");
        }
        Map<String, Object> vi = (Map<String, Object>) tree.get("vmcoreinfo");
        sb.append("  VMCOREINFO: ");
        if (Boolean.TRUE.equals(vi.get("present"))) {
            sb.append("present, ").append(vi.get("size")).append(" bytes");
            if (vi.containsKey("osrelease")) {
                sb.append(", OSRELEASE=").append(vi.get("osrelease"));
            }
        } else {
            sb.append("absent");
        }
        sb.append('\n');
        if (tree.containsKey("paging")) {
            Map<String, Object> pg = (Map<String, Object>) tree.get("paging");
            if ("identity".equals(pg.get("paging"))) {
                sb.append("  paging: no vCPU had paging enabled; identity mappings\n");
            } else {
                sb.append("  page-table walk: from vCPU ").append(pg.get("paging-first-cpu")).append(", ")
                        .append(pg.get("paging-skipped")).append(" entries skipped\n");
            }
        }
        return sb.toString();
    }

    /** The structured summary. */
    public Map<String, Object> tree() {
        return tree;
    }
}
