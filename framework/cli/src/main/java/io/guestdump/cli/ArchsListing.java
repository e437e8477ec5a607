package io.guestdump.cli;

import io.guestdump.core.inspect.Json;
import io.guestdump.core.plugins.ArchitectureRegistry;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.Charset;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * What {@code guestdump archs [--json]} prints and returns, for {@link ArchsCommand} and for {@link Main}, which
 * answers {@code archs} and {@code archs --json} alone without picocli: building picocli's model of the command
 * (about 175 classes the class-data archive cannot hold, run cold) was a sixth of that command's start-up. Refers to
 * no picocli type; {@code MainTest} keeps both paths' output, errors and exit codes equal.
 */
final class ArchsListing {
    private ArchsListing() {}

    /** Whether the arguments are {@code archs} or {@code archs --json} alone, which {@link Main} answers itself. */
    static boolean answersAlone(String[] args) {
        return args.length >= 1 && args.length <= 2 && args[0].equals("archs")
                && (args.length == 1 || args[1].equals("--json"));
    }

    /** Runs {@code archs [--json]} with the installation's configuration only, reporting failures as picocli would. */
    static int runAlone(boolean json, PrintWriter out, PrintWriter err) {
        try {
            return print(Environment.load(List.of(), Map.of(), err), json, out);
        } catch (Exception e) {
            return Failures.report(e, false, json, out, err);
        } finally {
            out.flush();
            err.flush();
        }
    }

    /** A writer on standard output or error as picocli makes one: the stream's encoding, flushed at each line. */
    static PrintWriter writer(OutputStream stream, String encodingProperty) {
        String encoding = System.getProperty(encodingProperty);
        Charset charset = encoding != null ? Charset.forName(encoding) : Charset.defaultCharset();
        return new PrintWriter(new OutputStreamWriter(stream, charset), true);
    }

    /** Lists the loaded plugins; exit 1 when any plugin jar failed. */
    static int print(Environment env, boolean json, PrintWriter out) {
        try (ArchitectureRegistry registry = env.registry()) {
            List<Object> list = new ArrayList<>();
            List<ArchitectureRegistry.Loaded> all = new ArrayList<>(registry.all());
            all.sort(Comparator.comparing((ArchitectureRegistry.Loaded l) -> l.pluginId())
                    .thenComparing(l -> l.arch().id()));
            for (ArchitectureRegistry.Loaded l : all) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("id", l.arch().id());
                m.put("plugin", l.pluginId());
                m.put("version", l.version());
                m.put("machines", List.copyOf(new TreeSet<>(l.arch().machines())));
                List<Object> elf = new ArrayList<>();
                for (int e : new TreeSet<>(l.arch().elfMachines())) {
                    Map<String, Object> em = new LinkedHashMap<>();
                    em.put("e_machine", e);
                    em.put("name", l.arch().elfMachineName(e));
                    elf.add(em);
                }
                m.put("elf-machines", elf);
                m.put("jar", l.source().toString());
                list.add(m);
            }
            if (json) {
                Map<String, Object> root = new LinkedHashMap<>();
                root.put("schema", Json.SCHEMA);
                root.put("plugins", list);
                root.put("problems", registry.problems());
                out.println(Json.render(root));
            } else {
                if (list.isEmpty()) {
                    out.println("no architecture plugins loaded from " + env.settings.pluginDirs());
                }
                for (Object o : list) {
                    @SuppressWarnings("unchecked")
                    Map<String, Object> m = (Map<String, Object>) o;
                    List<String> elf = ((List<?>) m.get("elf-machines")).stream()
                            .map(e -> ((Map<?, ?>) e).get("name") + " (" + ((Map<?, ?>) e).get("e_machine") + ")")
                            .toList();
                    out.printf("%-8s %-14s %-7s machines %-18s %s  %s%n", m.get("id"), m.get("plugin"),
                            m.get("version"), m.get("machines"), elf, m.get("jar"));
                }
                for (String p : registry.problems()) {
                    out.println("problem: " + p);
                }
            }
            out.flush();
            return registry.problems().isEmpty() ? ExitCodes.OK : ExitCodes.DUMP_FAILED;
        }
    }
}
