package io.guestdump.dist;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** The assembled distribution ({@code distribution/target/guestdump}) and a way to run its launcher. */
final class Dist {
    private Dist() {}

    /** What a process printed and returned. */
    record Run(int exit, String out, String err) {
        Run expect(int code) {
            assertTrue(exit == code, "exit " + exit + ", expected " + code + "\nstdout:\n" + out + "\nstderr:\n" + err);
            return this;
        }
    }

    static Path home() {
        Path p = Path.of(System.getProperty("guestdump.test.dist", "target/guestdump")).toAbsolutePath();
        assertTrue(Files.isRegularFile(p.resolve("bin/guestdump")), "no launcher at " + p + "; run mvn verify");
        return p;
    }

    static Path launcher() {
        return home().resolve("bin/guestdump");
    }

    /** Runs {@code bin/guestdump args…} from {@code workDir}. */
    static Run guestdump(Path workDir, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(launcher().toString());
        cmd.addAll(List.of(args));
        return run(workDir, Map.of(), cmd);
    }

    /** Runs any command, with a time limit. */
    static Run run(Path workDir, Map<String, String> env, List<String> cmd) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(workDir.toFile());
        pb.environment().putAll(env);
        Path out = Files.createTempFile("gd-out", ".txt");
        Path err = Files.createTempFile("gd-err", ".txt");
        pb.redirectOutput(out.toFile()).redirectError(err.toFile()).redirectInput(ProcessBuilder.Redirect.PIPE);
        Process p = pb.start();
        p.getOutputStream().close();
        if (!p.waitFor(300, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("timed out: " + cmd);
        }
        Run r = new Run(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                Files.readString(err, StandardCharsets.UTF_8));
        Files.delete(out);
        Files.delete(err);
        return r;
    }
}
