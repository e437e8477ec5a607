package io.guestdump.cli;

import io.guestdump.core.inspect.VmcoreFile;
import io.guestdump.core.inspect.VmcoreSummary;
import io.guestdump.core.plugins.ArchitectureRegistry;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code guestdump info FILE [--json]}. */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Validate an ELF vmcore and show its class, byte order, machine, vCPUs with their notes and "
                + "registers, loads and VMCOREINFO. Exits 2 naming the defect when the file is malformed.")
final class InfoCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    CommonOptions common;

    @Parameters(index = "0", paramLabel = "FILE", description = "The vmcore.")
    Path file;

    @Option(names = "--json", description = "Print JSON.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        Environment env = Environment.load(common, spec.commandLine().getErr());
        try (ArchitectureRegistry registry = env.registry(); VmcoreFile f = VmcoreFile.open(file)) {
            VmcoreSummary s = VmcoreSummary.of(f, registry);
            spec.commandLine().getOut().print(json ? s.toJson() : s.toText());
            spec.commandLine().getOut().flush();
        }
        return ExitCodes.OK;
    }
}
