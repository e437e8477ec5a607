package io.guestdump.testkit;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.guestdump.arch.api.ArchitectureSupport;
import io.guestdump.arch.api.CpuNote;
import io.guestdump.arch.api.DumpTarget;
import io.guestdump.arch.api.GuestState;
import io.guestdump.arch.api.NoteTableWriter;
import io.guestdump.arch.api.VcpuState;
import io.guestdump.elf.Note;
import io.guestdump.elf.NoteEncoder;
import io.guestdump.memory.GuestMemory;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The contract every architecture plugin keeps, checked the way the framework uses the plugin. Give it the plugin
 * and sample registers (QEMU's {@code info registers -a} text, or vCPU states), optionally golden note bytes, and
 * call {@link #verify()}:
 *
 * <ol>
 *   <li>config: the plugin's {@code reference.conf} (read through its class loader, as the framework does) has
 *       the {@code guestdump.arch.<id>} subtree;</li>
 *   <li>parse: the monitor text parses into vCPUs numbered 0, 1, …, whose register names the plugin accepts
 *       ({@link ArchitectureSupport#registerNames});</li>
 *   <li>write: {@link ArchitectureSupport#describe} and {@link ArchitectureSupport#cpuNotes} give the notes, each
 *       exactly its row's size, one per row per vCPU;</li>
 *   <li>decode: {@link ArchitectureSupport#decodeNotes} gives the same number of vCPUs with the same indexes, and
 *       writing the decoded vCPUs again gives the same bytes (parse → write → decode → write is stable);</li>
 *   <li>golden: where given, the encoded notes equal the expected bytes (a hex diff of the first difference
 *       otherwise).</li>
 * </ol>
 *
 * Every failed check is collected and reported together in one {@link AssertionError}.
 */
public final class PluginContract {
    private final ArchitectureSupport arch;
    private String machine;
    private String monitorText;
    private String monitorSource = "info-registers-a.txt";
    private List<VcpuState> cpus;
    private Map<String, String> properties = Map.of();
    private GuestMemory memory = GoldenVmcore.smallMemory();
    private String vmcoreinfo;
    private byte[] goldenNotes;
    private String goldenWhat;

    private PluginContract(ArchitectureSupport arch) {
        this.arch = arch;
        this.machine = arch.machines().iterator().next();
    }

    /** The contract of one plugin extension. */
    public static PluginContract of(ArchitectureSupport arch) {
        return new PluginContract(arch);
    }

    /** The guest architecture the sample is of (default: the plugin's first machine). */
    public PluginContract machine(String name) {
        this.machine = name;
        return this;
    }

    /** Sample registers as QEMU's monitor prints them; they are parsed by the plugin. */
    public PluginContract monitorText(String text, String sourceName) {
        this.monitorText = text;
        this.monitorSource = sourceName;
        return this;
    }

    /** Sample vCPU states, instead of (or as well as: these win) monitor text. */
    public PluginContract cpus(List<VcpuState> states) {
        this.cpus = List.copyOf(states);
        return this;
    }

    /** Source facts the plugin decides on, e.g. {@code machine-type}. */
    public PluginContract properties(Map<String, String> props) {
        this.properties = Map.copyOf(props);
        return this;
    }

    /** The guest memory (default: a small block of RAM). */
    public PluginContract memory(GuestMemory guestMemory) {
        this.memory = guestMemory;
        return this;
    }

    /** The guest kernel's VMCOREINFO text, where the plugin decides on it (e.g. a page size). */
    public PluginContract vmcoreinfo(String text) {
        this.vmcoreinfo = text;
        return this;
    }

    /** The bytes the encoded CPU notes must equal, e.g. QEMU's note segment without its VMCOREINFO note. */
    public PluginContract goldenNotes(byte[] expected, String what) {
        this.goldenNotes = expected.clone();
        this.goldenWhat = what;
        return this;
    }

    /** Runs every check; throws one {@link AssertionError} listing each failure. */
    public Result verify() {
        List<String> failures = new ArrayList<>();
        checkConfig(failures);
        List<VcpuState> sample = sample(failures);
        GuestState guest = new GuestState(machine, memory, sample, properties, Optional.ofNullable(vmcoreinfo));
        DumpTarget target = arch.describe(guest);
        List<CpuNote> table = arch.cpuNotes(guest, target);
        List<Note> notes = NoteTableWriter.write(table, sample, target);
        checkSizes(table, sample, notes, failures);
        List<VcpuState> decoded = arch.decodeNotes(notes, target);
        checkDecoded(sample, decoded, failures);
        List<Note> again = NoteTableWriter.write(table, decoded, target);
        byte[] first = NoteEncoder.encode(notes, target.data());
        byte[] second = NoteEncoder.encode(again, target.data());
        if (!java.util.Arrays.equals(first, second)) {
            failures.add("write → decode → write changed the notes: " + firstDifference(first, second));
        }
        if (goldenNotes != null && !java.util.Arrays.equals(goldenNotes, first)) {
            failures.add("notes differ from " + goldenWhat + ": " + firstDifference(goldenNotes, first));
        }
        if (!failures.isEmpty()) {
            throw new AssertionError(arch.id() + " plugin breaks its contract:\n  - " + String.join("\n  - ", failures));
        }
        return new Result(target, table, notes, decoded);
    }

    /**
     * What a passing run produced, for further checks of the plugin's own.
     *
     * @param target  what the plugin decided for the sample guest
     * @param table   its note table
     * @param notes   the CPU notes written
     * @param decoded the vCPUs read back
     */
    public record Result(DumpTarget target, List<CpuNote> table, List<Note> notes, List<VcpuState> decoded) {}

    private void checkConfig(List<String> failures) {
        Config reference = ConfigFactory.parseResources(arch.getClass().getClassLoader(), "reference.conf");
        String path = "guestdump.arch.\"" + arch.id() + "\"";
        if (!reference.hasPath(path)) {
            failures.add("its reference.conf has no " + path + " subtree (even an empty one documents where the "
                    + "plugin's keys live)");
        }
    }

    private List<VcpuState> sample(List<String> failures) {
        List<VcpuState> parsed = null;
        if (monitorText != null) {
            parsed = arch.parseMonitorRegisters(monitorText, monitorSource);
            Set<String> names = arch.registerNames(machine);
            for (int i = 0; i < parsed.size(); i++) {
                VcpuState c = parsed.get(i);
                if (c.index() != i) {
                    failures.add("parse: vCPU #" + i + " of " + monitorSource + " has index " + c.index());
                }
                for (String r : c.registers().keySet()) {
                    if (!names.contains(r)) {
                        failures.add("parse: register " + r + " of vCPU " + i + " is not in registerNames(" + machine
                                + ")");
                    }
                }
            }
        }
        if (cpus != null) {
            return cpus;
        }
        if (parsed == null || parsed.isEmpty()) {
            throw new IllegalStateException("give sample registers: monitorText(...) or cpus(...)");
        }
        return parsed;
    }

    private static void checkSizes(List<CpuNote> table, List<VcpuState> cpus, List<Note> notes,
            List<String> failures) {
        if (notes.size() != table.size() * cpus.size()) {
            failures.add("wrote " + notes.size() + " notes for " + cpus.size() + " vCPUs × " + table.size()
                    + " rows");
        }
        for (Note n : notes) {
            boolean sized = table.stream().anyMatch(r -> r.owner().equals(n.owner()) && r.type() == n.type()
                    && r.descSize() == n.descSize());
            if (!sized) {
                failures.add("note " + n.owner() + "/" + n.type() + " has n_descsz=" + n.descSize()
                        + ", which no row of the table declares");
            }
        }
    }

    private static void checkDecoded(List<VcpuState> sample, List<VcpuState> decoded, List<String> failures) {
        if (decoded.size() != sample.size()) {
            failures.add("decode: " + decoded.size() + " vCPUs back from " + sample.size());
            return;
        }
        for (int i = 0; i < sample.size(); i++) {
            if (decoded.get(i).index() != sample.get(i).index()) {
                failures.add("decode: vCPU #" + i + " came back with index " + decoded.get(i).index() + ", not "
                        + sample.get(i).index());
            }
        }
    }

    private static String firstDifference(byte[] expected, byte[] actual) {
        int n = Math.min(expected.length, actual.length);
        int at = 0;
        while (at < n && expected[at] == actual[at]) {
            at++;
        }
        int from = at / 16 * 16;
        return "lengths " + expected.length + " and " + actual.length + ", first difference at 0x"
                + Integer.toHexString(at) + "\n    expected " + hex(expected, from) + "\n    actual   "
                + hex(actual, from);
    }

    private static String hex(byte[] b, int from) {
        StringBuilder s = new StringBuilder();
        for (int i = from; i < Math.min(b.length, from + 64); i++) {
            s.append(String.format("%02x", b[i] & 0xff));
        }
        return s.toString();
    }
}
