package io.guestdump.cli;

import io.guestdump.core.sample.SampleGuest;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code guestdump sample-guest DIR [--size BYTES]}. */
@Command(name = "sample-guest", mixinStandardHelpOptions = true,
        exitCodeListHeading = ExitCodes.HEADING, exitCodeList = {ExitCodes.HELP_OK, ExitCodes.HELP_DUMP_FAILED,
            ExitCodes.HELP_USAGE, ExitCodes.HELP_GUEST_PAUSED, ExitCodes.HELP_INTERNAL, ExitCodes.HELP_INTERRUPTED},
        description = "Write the deterministic x86_64 sample guest snapshot (two vCPUs in long mode, 4-level page "
                + "tables) into a directory.")
final class SampleGuestCommand implements Callable<Integer> {
    /** The largest sample guest: its RAM file is sparse, but a dump of it is not. */
    private static final long MAX_END = 1L << 40;

    @Spec
    CommandSpec spec;

    @Option(names = "--output-dir", required = true, paramLabel = "DIR", description = "Where to write it.")
    Path dir;

    @Option(names = "--size", paramLabel = "BYTES", converter = AddressConverter.class,
            description = "Guest-physical size (end of the high RAM block): a multiple of 4KiB from 4MiB (the default) "
                    + "to 1TiB; e.g. 4GiB for benchmarks.")
    Long size;

    @Override
    public Integer call() throws Exception {
        long end = size == null ? SampleGuest.DEFAULT_END : size;
        if (end < SampleGuest.DEFAULT_END || end > MAX_END || end % 4096 != 0) {
            throw new ParameterException(spec.commandLine(), "--size " + end + " (0x" + Long.toHexString(end)
                    + ") is not a multiple of 4KiB from 4MiB to 1TiB");
        }
        Path conf = SampleGuest.write(dir, end);
        spec.commandLine().getOut().println("wrote sample guest " + conf);
        spec.commandLine().getOut().flush();
        return ExitCodes.OK;
    }
}
