package io.guestdump.testkit;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The real QEMU 7.2 dumps in {@code ../shared/golden} (see its README). Tests that need them call
 * {@link #require(String)} and are skipped, with a message, where the folder is absent.
 */
public final class GoldenFiles {
    private GoldenFiles() {}

    /** The golden guests: the sub-folders of {@link #root()}, sorted; empty where the folder is absent. */
    public static List<String> guests() {
        Optional<Path> root = root();
        if (root.isEmpty()) {
            return List.of();
        }
        try (Stream<Path> dirs = Files.list(root.get())) {
            return dirs.filter(Files::isDirectory).map(d -> d.getFileName().toString()).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The golden folder: {@code $GUESTDUMP_GOLDEN}, else the first {@code shared/golden} above the working dir. */
    public static Optional<Path> root() {
        String env = System.getenv("GUESTDUMP_GOLDEN");
        if (env != null && Files.isDirectory(Paths.get(env))) {
            return Optional.of(Paths.get(env));
        }
        Path dir = Paths.get("").toAbsolutePath();
        while (dir != null) {
            for (Path candidate : new Path[] {dir.resolve("shared/golden"), dir.resolve("../shared/golden")}) {
                if (Files.isDirectory(candidate)) {
                    return Optional.of(candidate.normalize());
                }
            }
            dir = dir.getParent();
        }
        return Optional.empty();
    }

    /** The folder of one golden guest; skips the calling test when it is absent. */
    public static Path require(String arch) {
        Optional<Path> root = root();
        assumeTrue(root.isPresent(), "skipped: ../shared/golden is absent (golden QEMU dumps not available)");
        Path dir = root.get().resolve(arch);
        assumeTrue(Files.isDirectory(dir), "skipped: " + dir + " is absent");
        return dir;
    }

    /** One file of a golden guest; skips when absent. */
    public static Path require(String arch, String file) {
        Path p = require(arch).resolve(file);
        assumeTrue(Files.isRegularFile(p), "skipped: " + p + " is absent");
        return p;
    }

    /** Unpacks with the xz command where installed (several times faster than the pure-Java decoder). */
    private static boolean unpackWithXzTool(Path xz, Path out) throws IOException {
        if (!Files.isExecutable(Paths.get("/usr/bin/xz"))) {
            return false;
        }
        try {
            Process p = new ProcessBuilder("/usr/bin/xz", "-dc", xz.toString()).redirectOutput(out.toFile())
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            return p.waitFor() == 0;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while unpacking " + xz, e);
        }
    }

    /**
     * The unpacked {@code qemu-full.elf} of a golden guest, unpacked once per machine into the temp folder
     * (about 530 MiB each); skips when absent.
     */
    public static synchronized Path unpackedFull(String arch) throws IOException {
        Path xz = require(arch, "qemu-full.elf.xz");
        Path cacheDir = Paths.get(System.getProperty("java.io.tmpdir"), "guestdump-golden", arch);
        Files.createDirectories(cacheDir);
        Path out = cacheDir.resolve("qemu-full.elf");
        Path stamp = cacheDir.resolve("qemu-full.elf.ok");
        if (Files.exists(stamp) && Files.exists(out)) {
            return out;
        }
        Path tmp = Files.createTempFile(cacheDir, "unpack", ".tmp");
        if (!unpackWithXzTool(xz, tmp)) {
            try (InputStream in = new org.tukaani.xz.XZInputStream(
                            new java.io.BufferedInputStream(Files.newInputStream(xz), 1 << 20));
                    OutputStream os = Files.newOutputStream(tmp)) {
                in.transferTo(os);
            }
        }
        Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        Files.writeString(stamp, "ok");
        return out;
    }
}
