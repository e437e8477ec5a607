package io.guestdump.cli;

import io.guestdump.core.DumpRequest;
import io.guestdump.core.DumpResult;
import io.guestdump.core.GuestDump;
import io.guestdump.core.plugins.ArchitectureRegistry;
import io.guestdump.core.vmcore.ProgressListener;
import java.io.PrintWriter;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code guestdump dump SOURCE -o FILE|-}. */
@Command(name = "dump", mixinStandardHelpOptions = true,
        exitCodeListHeading = ExitCodes.HEADING, exitCodeList = {ExitCodes.HELP_OK, ExitCodes.HELP_DUMP_FAILED,
            ExitCodes.HELP_USAGE, ExitCodes.HELP_GUEST_PAUSED, ExitCodes.HELP_INTERNAL, ExitCodes.HELP_INTERRUPTED},
        description = "Dump a guest into a vmcore. SOURCE is qmp:SOCKET (a live QEMU guest; stopped for the dump and "
                + "resumed), snapshot:PATH, elf:PATH (re-dump a vmcore), a path, or sample: (the bundled sample "
                + "guest). Prints a short summary; `guestdump info FILE` lists the notes, registers and loads.")
final class DumpCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    CommonOptions common;

    @Parameters(index = "0", arity = "1", paramLabel = "SOURCE",
            description = "qmp:SOCKET, snapshot:PATH, elf:PATH, a path, or sample:.")
    String source;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "FILE",
            description = "Output vmcore, or - for standard output (not a terminal). A FIFO or character device is "
                    + "written in place as a stream, never replaced.")
    String output;

    @Option(names = {"-q", "--quiet"}, description = "Print nothing on success.")
    boolean quiet;

    @Option(names = "--begin", paramLabel = "ADDR", converter = AddressConverter.class,
            description = "First guest-physical address to dump (with --length).")
    Long begin;

    @Option(names = "--length", paramLabel = "BYTES", converter = AddressConverter.class,
            description = "Bytes to dump from --begin (decimal, 0x… hex, or a whole number of B, KiB, MiB, GiB or TiB "
                    + "such as 16MiB).")
    Long length;

    @Option(names = {"-f", "--force"}, description = "Replace an existing regular output file (without it, a file "
            + "that appears at -o while dumping is kept and the dump fails).")
    boolean force;

    @Option(names = "--format", paramLabel = "FORMAT", defaultValue = "elf",
            description = "elf (default), kdump-zlib, kdump-lzo, kdump-snappy or kdump-zstd (kdump-compressed, "
                    + "as makedumpfile writes it).")
    String format;

    @Option(names = "--flattened", description = "Write a kdump format in makedumpfile's flattened (streamable) "
            + "form, the only one that can go to standard output; makedumpfile -R makes it seekable.")
    boolean flattened;

    @Option(names = "--paging", description = "Build the PT_LOADs from the guest's page tables (virtual addresses "
            + "for gdb and crash), as QEMU's paging=true; needs an architecture plugin with a page-table walker.")
    boolean paging;

    @Option(names = "--dump-level", paramLabel = "N",
            description = "Leave out page classes as makedumpfile -d N does (0-31, a sum of 1 zero pages, 2 page "
                    + "cache, 4 page cache with private data, 8 user pages, 16 free pages), read from the guest "
                    + "kernel's struct page array; needs its VMCOREINFO for anything but 0 and 1.")
    Integer dumpLevel;

    @Option(names = "--dry-run", description = "With --dump-level: print the page counts per class and what each "
            + "level would keep, like makedumpfile --mem-usage; write nothing.")
    boolean dryRun;

    @Option(names = "--live", paramLabel = "WHEN", description = "qmp: sources: dump a running guest from QEMU's "
            + "background snapshot while it keeps running (stopped only milliseconds; the summary prints the "
            + "downtime). never: stop it for the dump; auto (default, guestdump.source.qmp.live): live where QEMU "
            + "can, else stop it with a one-line reason; always: fail rather than stop it. A paused guest stays "
            + "paused.")
    String live;

    @Override
    public Integer call() throws Exception {
        if (live != null) {
            if (!io.guestdump.core.source.qmp.QmpSettings.LIVE_MODES.contains(live)) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--live=" + live
                        + " is not one of never, auto, always");
            }
            common.overrides.put("guestdump.source.qmp.live", live);
        }
        Environment env = Environment.load(common, spec.commandLine().getErr());
        PrintWriter out = output.equals("-") ? spec.commandLine().getErr() : spec.commandLine().getOut();
        DumpRequest request = new DumpRequest(Optional.ofNullable(source), output, Optional.ofNullable(begin),
                Optional.ofNullable(length), force, paging, format, flattened, Optional.ofNullable(dumpLevel));
        try (ArchitectureRegistry registry = env.registry()) {
            GuestDump dump = new GuestDump(env.settings, registry);
            if (dryRun) {
                out.print(dump.dryRun(request).toText());
                out.flush();
                return ExitCodes.OK;
            }
            ProgressBar bar = !quiet && showProgress(env)
                    ? new ProgressBar(System.err, env.settings.progressMinBytes()) : null;
            DumpResult r;
            try {
                r = dump.dump(request, bar == null ? ProgressListener.NONE : bar);
            } catch (RuntimeException e) {
                if (bar != null) {
                    bar.finish();
                }
                throw e;
            }
            if (!quiet) {
                summary(out, r, registry);
            }
            out.flush();
        }
        return ExitCodes.OK;
    }

    /** A few lines: where, what, how much, how long, and where VMCOREINFO came from. */
    private void summary(PrintWriter out, DumpResult r, ArchitectureRegistry registry) {
        out.printf("wrote %s (%s%s), %s%n", r.output() == null ? "standard output" : r.output().toString(), format,
                flattened ? ", flattened" : "", Sizes.human(r.fileSize()));
        out.printf("  %s %s %s, %d vCPU%s, %s of guest memory in %d PT_LOAD%s, %d notes%n", r.target().elfClass(),
                r.target().data(), registry.elfMachineName(r.target().machine()), r.cpus(), r.cpus() == 1 ? "" : "s",
                Sizes.human(r.memoryBytes()), r.loads(), r.loads() == 1 ? "" : "s", r.notes());
        out.printf("  source %s (%s), %.2f s%n", r.source(), r.machine(), r.nanos() / 1e9);
        out.printf("  VMCOREINFO: %s%n", r.vmcoreinfoOrigin() == null ? "none" : "from " + r.vmcoreinfoOrigin());
        if (r.capture() != null) {
            out.printf("  guest: %s%n", r.capture());
        }
    }

    private boolean showProgress(Environment env) {
        return switch (env.settings.progressMode()) {
            case "always" -> true;
            case "never" -> false;
            default -> System.console() != null; // both standard streams are a terminal
        };
    }
}
