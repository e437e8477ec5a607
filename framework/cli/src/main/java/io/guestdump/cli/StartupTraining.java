package io.guestdump.cli;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * The training run for the application class-data archive: runs the usual short commands in one JVM (version,
 * help, archs, a small dump in each format, info), so that the JVM started with {@code -XX:ArchiveClassesAtExit}
 * records every class they load. The launcher runs it with {@code GUESTDUMP_CDS=rebuild}; the build runs it at
 * package time. Output is discarded; a command that fails is reported and the others still run.
 */
public final class StartupTraining {
    private StartupTraining() {}

    /** Runs the training commands; exits 0 when all succeeded, 1 otherwise. */
    public static void main(String[] args) throws IOException {
        Path work = Files.createTempDirectory("guestdump-cds-training");
        List<String> failed = new ArrayList<>();
        PrintStream out = System.out;
        PrintStream err = System.err;
        PrintStream sink = new PrintStream(OutputStream.nullOutputStream());
        try {
            Path guest = work.resolve("guest");
            String elf = work.resolve("v.elf").toString();
            List<String[]> commands = new ArrayList<>();
            commands.add(new String[] {"--version"});
            commands.add(new String[] {"--help"});
            commands.add(new String[] {"archs"});
            commands.add(new String[] {"archs", "--json"});
            commands.add(new String[] {"sample-guest", "--output-dir", guest.toString()});
            System.setOut(sink);
            System.setErr(sink);
            // the launcher's main class answers --version itself: load it so that the archive holds it too
            sink.println(Main.versionLine());
            run(commands, failed);
            // the snapshot the sample guest's plugin named: the one .conf file sample-guest wrote
            String conf = snapshotIn(guest);
            commands.clear();
            commands.add(new String[] {"dump", "snapshot:" + conf, "-o", elf});
            for (String format : List.of("kdump-zlib", "kdump-lzo", "kdump-snappy", "kdump-zstd")) {
                commands.add(new String[] {"dump", "snapshot:" + conf, "-o", work.resolve(format).toString(),
                        "--format", format});
            }
            commands.add(new String[] {"info", elf});
            commands.add(new String[] {"info", elf, "--json"});
            run(commands, failed);
        } finally {
            System.setOut(out);
            System.setErr(err);
            deleteTree(work);
        }
        if (!failed.isEmpty()) {
            err.println("guestdump: class-data training: these commands failed (the archive covers the others): "
                    + failed);
            System.exit(1);
        }
    }

    private static void run(List<String[]> commands, List<String> failed) {
        for (String[] command : commands) {
            if (Main.run(command) != ExitCodes.OK) {
                failed.add(String.join(" ", command));
            }
        }
    }

    private static String snapshotIn(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return dir.resolve("missing.conf").toString();
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".conf")).findFirst()
                    .orElse(dir.resolve("missing.conf")).toString();
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
