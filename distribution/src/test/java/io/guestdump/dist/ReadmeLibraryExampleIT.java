package io.guestdump.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's "Using guestdump from Java" example, taken from the README itself, compiled with javac against the
 * distribution's lib/ and run: once with a plugin jar on the class path, once with the plugin directory, both
 * under a host that logs at INFO.
 */
class ReadmeLibraryExampleIT {
    @TempDir
    Path work;

    private static String example() throws Exception {
        String readme = Files.readString(Dist.home().resolve("README.md"));
        int section = readme.indexOf("## Using guestdump from Java");
        assertTrue(section >= 0, "README has no 'Using guestdump from Java' section");
        Matcher m = Pattern.compile("```java\n(.*?)```", Pattern.DOTALL).matcher(readme);
        assertTrue(m.find(section), "no java block in the section");
        return m.group(1);
    }

    private static String javaBin(String tool) {
        return Path.of(System.getProperty("java.home"), "bin", tool).toString();
    }

    private Dist.Run runExample(String classPath, List<String> args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(javaBin("java"), "-cp", classPath,
                // the host application's logging at INFO: guestdump must not fill it with PF4J's lifecycle
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=info", "DumpExample"));
        cmd.addAll(args);
        return Dist.run(work, Map.of(), cmd);
    }

    @Test
    void theReadmeExampleCompilesAndDumps() throws Exception {
        Path src = work.resolve("src/DumpExample.java");
        Files.createDirectories(src.getParent());
        Files.writeString(src, example());
        Path classes = work.resolve("classes");
        String lib = Dist.home().resolve("lib") + "/*";
        Dist.run(work, Map.of(), List.of(javaBin("javac"), "-Xlint:all", "-Werror", "-cp", lib, "-d",
                classes.toString(), src.toString())).expect(0);
        String sample = "snapshot:" + Dist.home().resolve("config/guests/sample-x86_64.conf");
        Path plugins = Dist.home().resolve("plugins");
        Path x86 = Files.list(plugins).filter(p -> p.getFileName().toString().startsWith("arch-x86_64")).findFirst()
                .orElseThrow();

        // the plugin as an ordinary class-path jar
        Dist.Run cp = runExample(classes + ":" + lib + ":" + x86, List.of(sample, "cp.kdump")).expect(0);
        checkDump(cp, work.resolve("cp.kdump"));
        // the plugin directory, nothing on the class path
        Dist.Run dir = runExample(classes + ":" + lib, List.of(sample, "dir.kdump", plugins.toString())).expect(0);
        checkDump(dir, work.resolve("dir.kdump"));
        assertEquals(Files.size(work.resolve("cp.kdump")), Files.size(work.resolve("dir.kdump")));
    }

    private static void checkDump(Dist.Run r, Path out) throws Exception {
        assertTrue(r.out().contains(out + ": x86_64, 2 vCPUs, 2097152 bytes of guest memory"), r.out());
        byte[] head = Files.readAllBytes(out);
        assertEquals("KDUMP   ", new String(head, 0, 8, StandardCharsets.US_ASCII));
        assertTrue(r.err().contains("2097152 of 2097152 bytes"), "progress was reported up to the end: " + r.err());
        assertFalse(r.err().contains("INFO"), "nothing at INFO in the host's log:\n" + r.err());
        assertFalse(r.err().contains("org.pf4j"), "no PF4J lines in the host's log:\n" + r.err());
    }
}
