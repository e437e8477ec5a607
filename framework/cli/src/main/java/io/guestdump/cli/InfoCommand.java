package io.guestdump.cli;

import io.guestdump.arch.api.GuestDumpException;
import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.core.inspect.KdumpInfo;
import io.guestdump.core.inspect.VmcoreFile;
import io.guestdump.core.inspect.VmcoreSummary;
import io.guestdump.core.plugins.ArchitectureRegistry;
import io.guestdump.core.source.LoadedGuest;
import io.guestdump.core.source.SourceSpec;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code guestdump info FILE [--json]}. */
@Command(name = "info", mixinStandardHelpOptions = true,
        exitCodeListHeading = ExitCodes.HEADING, exitCodeList = {ExitCodes.HELP_OK, ExitCodes.HELP_DUMP_FAILED,
            ExitCodes.HELP_USAGE, ExitCodes.HELP_GUEST_PAUSED, ExitCodes.HELP_INTERNAL, ExitCodes.HELP_INTERRUPTED},
        description = "Validate a vmcore (ELF or kdump-compressed) and show its class, byte order, machine, vCPUs with their notes and "
                + "registers, loads and VMCOREINFO. Exits 2 naming the defect when the file is malformed or is not "
                + "a vmcore guestdump can re-dump (no PT_LOAD, no CPU notes, no plugin for its machine).")
final class InfoCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    CommonOptions common;

    @Parameters(index = "0", paramLabel = "FILE", description = "The vmcore: ELF, or kdump-compressed (seekable or "
            + "flattened); - reads standard input.")
    Path file;

    @Option(names = "--json", description = "Print JSON (docs/json-schema.md); errors too.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        Environment env = Environment.load(common, spec.commandLine().getErr());
        boolean stdin = file.toString().equals("-");
        if (!stdin && Files.exists(file) && !Files.isRegularFile(file)) {
            throw new InvalidInputException(file + " is not a regular file (a directory, FIFO or device); give a "
                    + "vmcore file, or - with the vmcore on standard input");
        }
        try (ArchitectureRegistry registry = env.registry()) {
            if (!stdin) {
                byte[] head;
                try (InputStream peek = Files.newInputStream(file)) {
                    head = peek.readNBytes(16);
                }
                if (!KdumpInfo.isKdump(head)) {
                    return elf(file, file.toString(), registry);
                }
                // kdump: only the headers, notes and bitmaps at the start are read
                try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
                    return print(KdumpInfo.summarize(file.toString(), in, Files.size(file), registry),
                            Optional.empty());
                }
            }
            InputStream in = new BufferedInputStream(System.in, 1 << 16);
            in.mark(16);
            byte[] head = in.readNBytes(16);
            in.reset();
            if (KdumpInfo.isKdump(head)) {
                return print(KdumpInfo.summarize("-", in, -1, registry), Optional.empty());
            }
            // an ELF vmcore on standard input needs random access: spooled to a private temporary file
            Path spool = Files.createTempFile("guestdump-info-", ".vmcore",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            try {
                Files.copy(in, spool, StandardCopyOption.REPLACE_EXISTING);
                return elf(spool, "-", registry);
            } finally {
                Files.deleteIfExists(spool);
            }
        } catch (NoSuchFileException e) {
            throw new InvalidInputException(file + " does not exist");
        }
    }

    private int elf(Path path, String name, ArchitectureRegistry registry) throws IOException {
        try (VmcoreFile f = VmcoreFile.open(path)) {
            return print(VmcoreSummary.of(f, registry).named(name),
                    redumpDefect(path, registry).map(d -> d.replace(path.toString(), name)));
        }
    }

    private int print(VmcoreSummary summary, Optional<String> defect) {
        VmcoreSummary s = defect.map(summary::withDefect).orElse(summary);
        PrintWriter out = spec.commandLine().getOut();
        out.print(json ? s.toJson() : s.toText());
        out.flush();
        if (defect.isPresent()) {
            PrintWriter err = spec.commandLine().getErr();
            err.println("guestdump: not a vmcore guestdump can re-dump: " + defect.get());
            err.flush();
            return ExitCodes.USAGE;
        }
        return ExitCodes.OK;
    }

    /** Why {@code guestdump dump elf:FILE} would refuse the file, if it would. */
    private static Optional<String> redumpDefect(Path file, ArchitectureRegistry registry) {
        try (LoadedGuest g = SourceSpec.parse("elf:" + file).open(registry)) {
            if (g.state().memory().blocks().isEmpty()) {
                return Optional.of(file + ": no PT_LOAD holds guest memory");
            }
            return Optional.empty();
        } catch (GuestDumpException e) {
            return Optional.of(e.getMessage());
        }
    }
}
