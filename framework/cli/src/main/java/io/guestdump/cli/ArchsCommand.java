package io.guestdump.cli;

import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValueFactory;
import io.guestdump.core.plugins.ArchitectureRegistry;
import io.guestdump.elf.Machine;
import java.io.PrintWriter;
import java.util.ArrayList;
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

/** {@code guestdump archs [--json]}. */
@Command(name = "archs", mixinStandardHelpOptions = true,
        description = "List the loaded architecture plugins with id, version, guest architectures and jar.")
final class ArchsCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    CommonOptions common;

    @Option(names = "--json", description = "Print JSON.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        Environment env = Environment.load(common, spec.commandLine().getErr());
        PrintWriter out = spec.commandLine().getOut();
        try (ArchitectureRegistry registry = env.registry()) {
            List<Object> list = new ArrayList<>();
            for (ArchitectureRegistry.Loaded l : registry.all()) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("id", l.arch().id());
                m.put("plugin", l.pluginId());
                m.put("version", l.version());
                m.put("machines", List.copyOf(new TreeSet<>(l.arch().machines())));
                m.put("elf-machines", l.arch().elfMachines().stream().sorted().map(Machine::name).toList());
                m.put("jar", l.source().toString());
                list.add(m);
            }
            if (json) {
                Map<String, Object> root = new LinkedHashMap<>();
                root.put("plugins", list);
                root.put("problems", registry.problems());
                out.println(ConfigValueFactory.fromMap(root).render(ConfigRenderOptions.concise().setJson(true)));
            } else {
                if (list.isEmpty()) {
                    out.println("no architecture plugins loaded from " + env.settings.pluginDirs());
                }
                for (Object o : list) {
                    @SuppressWarnings("unchecked")
                    Map<String, Object> m = (Map<String, Object>) o;
                    out.printf("%-8s %-14s %-7s machines %-18s %s  %s%n", m.get("id"), m.get("plugin"),
                            m.get("version"), m.get("machines"), m.get("elf-machines"), m.get("jar"));
                }
                for (String p : registry.problems()) {
                    out.println("problem: " + p);
                }
            }
            out.flush();
        }
        return ExitCodes.OK;
    }
}
