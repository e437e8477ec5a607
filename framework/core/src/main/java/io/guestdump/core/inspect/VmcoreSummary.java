package io.guestdump.core.inspect;

import io.guestdump.arch.api.DumpTarget;
import io.guestdump.arch.api.GuestDumpException;
import io.guestdump.arch.api.VcpuState;
import io.guestdump.core.notes.NoteSegmentBuilder;
import io.guestdump.core.paging.PagingNote;
import io.guestdump.core.plugins.ArchitectureRegistry;
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

    VmcoreSummary(Map<String, Object> tree) {
        this.tree = tree;
    }

    /** Summarises an open vmcore; registers are decoded when a plugin reads this {@code e_machine}. */
    public static VmcoreSummary of(VmcoreFile file, ArchitectureRegistry registry) {
        Map<String, Object> t = new LinkedHashMap<>();
        var h = file.header();
        t.put("schema", Json.SCHEMA);
        t.put("format", "elf");
        t.put("file", file.path().toString());
        t.put("size", file.size());
        t.put("class", h.elfClass().name());
        t.put("byte-order", h.data().name());
        t.put("e_machine", h.machine());
        t.put("machine", machineName(registry, h.machine()));
        t.put("e-phnum", h.phnum());
        t.put("program-headers", file.phnum());
        t.put("warnings", file.warnings());

        describeNotes(t, file.notes(), h.machine(), h.elfClass(), h.data(), registry, file.path().toString());

        List<Object> loads = new ArrayList<>();
        long stored = 0;
        for (ProgramHeader p : file.loads()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("offset", Json.u64(p.offset()));
            m.put("vaddr", Json.u64(p.vaddr()));
            m.put("paddr", Json.u64(p.paddr()));
            m.put("filesz", Json.u64(p.filesz()));
            m.put("memsz", Json.u64(p.memsz()));
            loads.add(m);
            stored += p.filesz();
        }
        t.put("loads", loads);
        t.put("memory-bytes", Json.u64(stored));
        Object vi = t.remove("vmcoreinfo");
        Object paging = t.remove("paging");
        t.put("vmcoreinfo", vi);
        if (paging != null) {
            t.put("paging", paging);
        }
        return new VmcoreSummary(t);
    }

    /**
     * Puts {@code notes}, {@code architecture}, {@code plugin}, {@code cpus} (registers decoded by the plugin that
     * reads {@code machine}), {@code vmcoreinfo} and {@code paging} into {@code t}: shared by ELF and kdump files.
     */
    static void describeNotes(Map<String, Object> t, List<Note> all, int machine, io.guestdump.elf.ElfClass elfClass,
            io.guestdump.elf.ElfData data, ArchitectureRegistry registry, String where) {
        List<Note> cpuNotes = new ArrayList<>();
        Optional<Note> vmcoreinfo = Optional.empty();
        Map<String, Object> paging = new LinkedHashMap<>();
        for (Note n : all) {
            if (n.owner().equals(NoteSegmentBuilder.VMCOREINFO_OWNER) && n.type() == NoteType.NT_VMCOREINFO) {
                vmcoreinfo = Optional.of(n);
            } else if (PagingNote.is(n)) {
                PagingNote.parse(n).ifPresent(paging::putAll);
            } else {
                cpuNotes.add(n);
            }
        }
        List<Object> notes = new ArrayList<>();
        for (Note n : all) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("owner", n.owner());
            m.put("type", Integer.toUnsignedLong(n.type()));
            m.put("size", n.descSize());
            notes.add(m);
        }
        t.put("notes", notes);

        Optional<ArchitectureRegistry.Loaded> arch = registry.forElfMachine(machine);
        List<Object> cpus = new ArrayList<>();
        if (arch.isPresent()) {
            DumpTarget target = new DumpTarget(machine, elfClass, data, 4096);
            t.put("architecture", arch.get().arch().machineFor(target));
            t.put("plugin", arch.get().pluginId());
            List<VcpuState> states;
            try {
                states = arch.get().arch().decodeNotes(cpuNotes, target);
            } catch (GuestDumpException | IllegalArgumentException e) {
                throw new io.guestdump.arch.api.InvalidInputException(where + ": CPU notes do not decode: "
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
            t.put("architecture", "unknown (no plugin reads " + registry.elfMachineName(machine) + ")");
        }
        t.put("cpus", cpus);

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
    }

    /** {@code EM_FOO} for the value a plugin declares under that name; {@code EM_?} when no plugin names it. */
    static String machineName(ArchitectureRegistry registry, int machine) {
        String n = registry.elfMachineName(machine);
        int paren = n.indexOf(" (");
        return paren > 0 ? n.substring(0, paren) : n;
    }

    /** A number of the tree in hex, as the text form prints addresses. */
    private static String hex(Object n) {
        return "0x" + (n instanceof BigInteger b ? b.toString(16) : Long.toHexString(((Number) n).longValue()));
    }

    /** The summary as a JSON document (docs/json-schema.md). */
    public String toJson() {
        return Json.render(tree) + "\n";
    }

    /** The same summary under another file name ({@code -} for a copy of standard input). */
    public VmcoreSummary named(String file) {
        Map<String, Object> t = new LinkedHashMap<>(tree);
        t.put("file", file);
        return new VmcoreSummary(t);
    }

    /** Marks the file as one {@code dump elf:} refuses, with the reason. */
    public VmcoreSummary withDefect(String defect) {
        Map<String, Object> t = new LinkedHashMap<>(tree);
        t.put("redumpable", false);
        t.put("defect", defect);
        return new VmcoreSummary(t);
    }

    /** The summary as readable text. */
    @SuppressWarnings("unchecked")
    public String toText() {
        StringBuilder sb = new StringBuilder();
        boolean elf = "elf".equals(tree.get("format"));
        if (elf) {
            sb.append(tree.get("file")).append(": ").append(tree.get("class")).append(' ')
                    .append(tree.get("byte-order")).append(" core, ").append(tree.get("machine")).append(" (")
                    .append(tree.get("e_machine")).append("), architecture ").append(tree.get("architecture"))
                    .append('\n');
            sb.append("  size ").append(tree.get("size")).append(" bytes, ").append(tree.get("memory-bytes"))
                    .append(" bytes of guest memory in ").append(((List<?>) tree.get("loads")).size())
                    .append(" PT_LOADs");
            if ((int) tree.get("e-phnum") == 0xffff) {
                sb.append(" (PN_XNUM: ").append(tree.get("program-headers")).append(" program headers)");
            }
        } else {
            sb.append(tree.get("file")).append(": ").append(tree.get("format")).append(" (").append(tree.get("form"))
                    .append("), ").append(tree.get("class")).append(' ').append(tree.get("byte-order"))
                    .append(", utsname machine ").append(tree.get("utsname-machine")).append(" release ")
                    .append(tree.get("utsname-release")).append(", architecture ").append(tree.get("architecture"))
                    .append('\n');
            sb.append("  size ").append(tree.get("size")).append(" bytes, block size ").append(tree.get("block-size"))
                    .append(", max_mapnr ").append(tree.get("max-mapnr")).append(", ").append(tree.get("dumped-pages"))
                    .append(" pages dumped, dump level ").append(tree.get("dump-level")).append(", phys_base ")
                    .append(hex(tree.get("phys-base")));
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
                    .append(Long.toHexString(((Number) m.get("type")).longValue())).append(", ").append(m.get("size"))
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
        List<Object> loads = (List<Object>) tree.getOrDefault("loads", List.of());
        if (elf) {
            sb.append("  loads:\n");
        }
        for (Object o : loads.subList(0, Math.min(loads.size(), TEXT_LOADS))) {
            Map<String, Object> m = (Map<String, Object>) o;
            sb.append("    paddr ").append(hex(m.get("paddr"))).append(" vaddr ").append(hex(m.get("vaddr")))
                    .append(" offset ").append(hex(m.get("offset"))).append(" filesz ").append(hex(m.get("filesz")))
                    .append(" memsz ").append(hex(m.get("memsz"))).append('\n');
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
