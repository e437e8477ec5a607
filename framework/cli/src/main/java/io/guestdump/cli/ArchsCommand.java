package io.guestdump.cli;

import io.guestdump.core.inspect.Json;
import io.guestdump.core.plugins.ArchitectureRegistry;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code guestdump archs [--json]}: exit 1 when any plugin jar failed (each problem is listed). */
@Command(name = "archs", mixinStandardHelpOptions = true,
        exitCodeListHeading = ExitCodes.HEADING, exitCodeList = {ExitCodes.HELP_OK, ExitCodes.HELP_DUMP_FAILED,
            ExitCodes.HELP_USAGE, ExitCodes.HELP_GUEST_PAUSED, ExitCodes.HELP_INTERNAL, ExitCodes.HELP_INTERRUPTED},
        description = "List the loaded architecture plugins with id, version, guest architectures and jar, and each "
                + "plugin that failed with the reason; exits 1 when any did.")
final class ArchsCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    CommonOptions common;

    @Option(names = "--json", description = "Print JSON (docs/json-schema.md); errors too.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        Environment env = Environment.load(common, spec.commandLine().getErr());
        PrintWriter out = spec.commandLine().getOut();
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
