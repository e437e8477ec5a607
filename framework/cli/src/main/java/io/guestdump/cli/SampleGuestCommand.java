package io.guestdump.cli;

import io.guestdump.core.sample.SampleGuest;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code guestdump sample-guest DIR [--size BYTES]}. */
@Command(name = "sample-guest", mixinStandardHelpOptions = true,
        description = "Write the deterministic x86_64 sample guest snapshot (two vCPUs in long mode, 4-level page "
                + "tables) into a directory.")
final class SampleGuestCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--output-dir", required = true, paramLabel = "DIR", description = "Where to write it.")
    Path dir;

    @Option(names = "--size", paramLabel = "BYTES", converter = AddressConverter.class,
            description = "Guest-physical size (end of the high RAM block), default 4MiB; e.g. 4GiB for benchmarks.")
    Long size;

    @Override
    public Integer call() throws Exception {
        Path conf = SampleGuest.write(dir, size == null ? SampleGuest.DEFAULT_END : size);
        spec.commandLine().getOut().println("wrote sample guest " + conf);
        spec.commandLine().getOut().flush();
        return ExitCodes.OK;
    }
}
