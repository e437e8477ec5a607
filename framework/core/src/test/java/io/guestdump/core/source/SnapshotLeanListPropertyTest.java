package io.guestdump.core.source;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.lists;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigResolveOptions;
import com.typesafe.config.ConfigSyntax;
import com.typesafe.config.ConfigValue;
import io.guestdump.arch.api.InvalidInputException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.quicktheories.core.Gen;
import org.quicktheories.generators.Generate;

/**
 * The lean list reader means exactly what HOCON means, over generated {@code memory}/{@code cpus} lists: quoted and
 * unquoted keys and values, comments and new lines wherever HOCON allows them (and where it does not), missing or
 * doubled separators, concatenations, {@code +=}, substitutions. For every text, either both HOCON and the
 * snapshot reader refuse it, or the guest's list is the same, element by element. Each kind of outcome is counted
 * and must be reached.
 */
class SnapshotLeanListPropertyTest {
    @TempDir
    Path dir;

    private static final List<String> KEYS = List.of("memory = [", "memory: [", "\"memory\" = [", "memory=[",
            "cpus = [", "memory += [", "memory [", "guest.memory = [");
    private static final List<String> ENTRY_SEPARATORS = List.of(", ", "\n", ",\n", " # c\n", " // c\n", ",", " ",
            ",,");
    private static final List<String> ELEMENT_SEPARATORS = List.of(",", "\n", ",\n", "\n,\n", " ", ",,", " # c\n",
            "\n\n", "// c\n,");
    private static final List<String> TRAILERS = List.of("", " # c", " [ { start = 9 } ]", " ${?nothing}", ",",
            " \"x\"", " // c");
    private static final List<String> ENTRIES = List.of("start = 0", "size = 4096", "file = ram.bin",
            "\"file-offset\" = \"0x1000\"", "size = \"4 KiB\"", "size = 4 KiB", "name = \"a]}{,\\\" b\"",
            "start = ${s}", "nested { a = [1, { b = 2 }] }", "start: 0x10", "x.y = 1", "include \"other.conf\"",
            "t = \"\"\"tri\nple\"\"\"", "start = 1 # c", "bad = = 1", "u = [ 1, 2 ]");

    record Element(List<Integer> entries, List<Integer> separators) {}

    record Text(int key, List<Element> elements, List<Integer> separators, int trailer, boolean override) {}

    private static Gen<Element> elements() {
        Gen<Integer> entry = Generate.range(0, ENTRIES.size() - 1);
        Gen<Integer> sep = Generate.range(0, ENTRY_SEPARATORS.size() - 1);
        return lists().of(entry).ofSizeBetween(0, 4).zip(lists().of(sep).ofSize(4), Element::new);
    }

    private static Gen<Text> texts() {
        return Generate.range(0, KEYS.size() - 1).zip(lists().of(elements()).ofSizeBetween(0, 4),
                lists().of(Generate.range(0, ELEMENT_SEPARATORS.size() - 1)).ofSize(4),
                Generate.range(0, TRAILERS.size() - 1), Generate.booleans(), Text::new);
    }

    private static String render(Text t) {
        StringBuilder list = new StringBuilder(KEYS.get(t.key())).append(' ');
        for (int i = 0; i < t.elements().size(); i++) {
            Element e = t.elements().get(i);
            list.append('{');
            for (int j = 0; j < e.entries().size(); j++) {
                list.append(ENTRIES.get(e.entries().get(j)));
                if (j < e.entries().size() - 1) {
                    list.append(ENTRY_SEPARATORS.get(e.separators().get(j)));
                }
            }
            list.append('}');
            if (i < t.elements().size() - 1) {
                list.append(ELEMENT_SEPARATORS.get(t.separators().get(i)));
            }
        }
        list.append(" ]").append(TRAILERS.get(t.trailer()));
        return "s = 5\nguest {\n  arch = toy64\n  " + list + "\n"
                + (t.override() ? "  memory = [ { start = 7 } ]\n" : "") + "}\n";
    }

    /** HOCON's reading of guest.memory and guest.cpus (values unwrapped), or "error". */
    private static Object hocon(Path file) {
        try {
            Config c = ConfigFactory.parseFile(file.toFile(), ConfigParseOptions.defaults()
                    .setSyntax(ConfigSyntax.CONF)).resolve(ConfigResolveOptions.defaults()
                            .setUseSystemEnvironment(false));
            Map<String, Object> out = new TreeMap<>();
            for (String key : List.of("memory", "cpus")) {
                out.put(key, c.hasPath("guest." + key) ? c.getValue("guest." + key).unwrapped() : "absent");
            }
            return out;
        } catch (ConfigException e) {
            return "error";
        }
    }

    /**
     * The snapshot reader's guest.memory and guest.cpus, lean lists parsed element by element as SnapshotSource
     * reads them (both, before using either), or "error".
     */
    private static Object ours(Path file) {
        try {
            SnapshotParser.Parsed parsed = SnapshotParser.parse(file);
            Map<String, Object> out = new TreeMap<>();
            for (String key : List.of("memory", "cpus")) {
                if (!parsed.root().hasPath("guest." + key)) {
                    out.put(key, "absent");
                    continue;
                }
                ConfigValue v = parsed.root().getValue("guest." + key);
                LeanList lean = parsed.list(v);
                if (lean == null) {
                    out.put(key, v.unwrapped());
                    continue;
                }
                List<Object> elements = new ArrayList<>();
                for (int i = 0; i < lean.size(); i++) {
                    elements.add(lean.element(i, file).root().unwrapped());
                }
                out.put(key, elements);
            }
            return out;
        } catch (InvalidInputException e) {
            return "error";
        }
    }

    @Test
    void theSnapshotReaderReadsEveryGeneratedListAsHoconDoes() {
        Map<String, AtomicInteger> outcomes = new TreeMap<>();
        qt().withExamples(1500).forAll(texts()).checkAssert(t -> {
            String text = render(t);
            Path file = dir.resolve("g.conf");
            try {
                Files.writeString(file, text);
                Files.writeString(dir.resolve("other.conf"), "included = 1\n");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            assertEquals(hocon(file), ours(file), text);
            try {
                SnapshotParser.Parsed p = SnapshotParser.parse(file);
                String kind = p.lists().isEmpty() ? "read by HOCON alone" : "lean list";
                outcomes.computeIfAbsent(kind, k -> new AtomicInteger()).incrementAndGet();
            } catch (InvalidInputException e) {
                outcomes.computeIfAbsent("refused", k -> new AtomicInteger()).incrementAndGet();
            }
        });
        System.err.println("SnapshotLeanListPropertyTest: " + outcomes);
        assertTrue(outcomes.keySet().containsAll(List.of("read by HOCON alone", "lean list", "refused")),
                outcomes.toString());
    }
}
