package io.guestdump.cli;

import io.guestdump.arch.api.SampleGuest;
import io.guestdump.core.plugins.ArchitectureRegistry;
import io.guestdump.core.sample.SampleGuestWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code guestdump sample-guest --output-dir DIR [--size BYTES]}. */
@Command(name = "sample-guest", mixinStandardHelpOptions = true,
        exitCodeListHeading = ExitCodes.HEADING, exitCodeList = {ExitCodes.HELP_OK, ExitCodes.HELP_DUMP_FAILED,
            ExitCodes.HELP_USAGE, ExitCodes.HELP_GUEST_PAUSED, ExitCodes.HELP_INTERNAL, ExitCodes.HELP_INTERRUPTED},
        description = "Write the bundled sample guest's snapshot (the one `dump sample:` dumps: a small deterministic "
                + "guest an architecture plugin generates; guestdump.sample-arch chooses the plugin) into a directory.")
final class SampleGuestCommand implements Callable<Integer> {
    /** The largest sample guest: its RAM file is sparse, and so is an ELF dump of it to a file (not to a pipe). */
    private static final long MAX_END = 1L << 40;

    @Spec
    CommandSpec spec;

    @Mixin
    CommonOptions common;

    @Option(names = "--output-dir", required = true, paramLabel = "DIR", description = "Where to write it.")
    Path dir;

    @Option(names = "--size", paramLabel = "BYTES", converter = AddressConverter.class,
            description = "Guest-physical size: a multiple of 4KiB from the sample's own size (the default; 4MiB for "
                    + "the distribution's) to 1TiB; e.g. 4GiB for benchmarks.")
    Long size;

    @Override
    public Integer call() throws Exception {
        if (size != null && (size <= 0 || size > MAX_END || size % 4096 != 0)) {
            throw new ParameterException(spec.commandLine(), "--size " + size + " (0x" + Long.toHexString(size)
                    + ") is not a multiple of 4KiB up to 1TiB");
        }
        Environment env = Environment.load(common, spec.commandLine().getErr());
        try (ArchitectureRegistry registry = env.registry()) {
            SampleGuest sample = registry.sampleGuest(env.settings.sampleArch());
            long min = sample.defaultSize();
            long end = size == null ? min : size;
            if (end < min) {
                throw new ParameterException(spec.commandLine(), "--size " + end + " (0x" + Long.toHexString(end)
                        + ") is smaller than the sample guest " + sample.name() + " (" + min + " bytes, "
                        + Sizes.human(min) + "); give a multiple of 4KiB from " + Sizes.human(min) + " to 1TiB");
            }
            Path conf = SampleGuestWriter.write(sample, dir, end);
            spec.commandLine().getOut().println("wrote sample guest " + conf + " (" + sample.description() + ")");
            spec.commandLine().getOut().flush();
        }
        return ExitCodes.OK;
    }
}
