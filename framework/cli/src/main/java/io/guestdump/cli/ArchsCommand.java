package io.guestdump.cli;

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
        return ArchsListing.print(Environment.load(common, spec.commandLine().getErr()), json,
                spec.commandLine().getOut());
    }
}
