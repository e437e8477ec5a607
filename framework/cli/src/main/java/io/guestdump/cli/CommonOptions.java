package io.guestdump.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Option;

/** Options every command shares: configuration layers and verbosity. */
public final class CommonOptions {
    @Option(names = "--config", paramLabel = "FILE", description = "Extra HOCON configuration file (repeatable; "
            + "later files win).")
    List<Path> configFiles = new ArrayList<>();

    @Option(names = "-D", paramLabel = "KEY=VALUE",
            description = "Override one setting, e.g. -D guestdump.notes.vmcoreinfo-scan=false.")
    Map<String, String> overrides = new LinkedHashMap<>();

    @Option(names = {"-v", "--verbose"}, description = "Log more, and print stack traces of errors (also accepted "
            + "before the command).")
    boolean verbose;
}
