package io.guestdump.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The out-of-tree recipe of docs/writing-a-plugin.md, followed as a plugin author on a fresh machine would: the
 * documented install command run in a clean copy of this source tree (so the running build's own target/ is left
 * alone) into a private local repository under target/, the project files copied verbatim out of the page, built
 * with Maven on the JDK in use (its contract test included), the jar dropped into a copy of the distribution's
 * plugins/, and a snapshot dumped with it: the bytes of its note are checked.
 *
 * <p>Third-party artifacts come from the build's own local repository as a read-only tail
 * ({@code -Dmaven.repo.local.tail}, Maven 3.9), so nothing of them is downloaded or copied; an offline outer build
 * makes the inner builds offline too. Needs the Maven wrapper's Maven (3.9.x); the build's own is used.
 */
class OutOfTreePluginIT {
    private static final Pattern FILE_BLOCK = Pattern.compile("<!-- file: (\\S+) -->\\n```\\w*\\n(.*?)\\n```\\n",
            Pattern.DOTALL);
    private static final String INSTALL = "./mvnw -B -ntp install -pl framework/plugin-api,framework/testkit -am "
            + "-DskipTests";

    @TempDir
    Path work;

    @Test
    void aPluginBuiltFromTheDocumentedRecipeDumpsWithADistribution() throws Exception {
        Path root = Path.of(System.getProperty("guestdump.test.root", "..")).toAbsolutePath().normalize();
        Path repo = Path.of(System.getProperty("guestdump.test.oot-repo", "target/oot-m2")).toAbsolutePath();
        String page = Files.readString(root.resolve("docs/writing-a-plugin.md"));
        assertTrue(page.contains("```sh\n" + INSTALL + "\n```"), "the page documents the install command " + INSTALL);
        Map<String, String> times = new LinkedHashMap<>();

        // 1. the documented install, in a clean copy of the source tree, into the private repository
        Path src = work.resolve("src");
        copyTree(root, src);
        deleteTree(repo.resolve("io/guestdump"));
        long t0 = System.nanoTime();
        List<String> install = new ArrayList<>(List.of(INSTALL.split(" ")));
        install.addAll(repoOptions(repo));
        Dist.Run r = run(src, install);
        r.expect(0);
        times.put("install the API artifacts", secs(t0));
        for (String a : List.of("guestdump-parent", "guestdump-framework", "guestdump-elf", "guestdump-memory",
                "guestdump-plugin-api", "guestdump-testkit")) {
            assertTrue(Files.isRegularFile(repo.resolve("io/guestdump/" + a + "/0.1.0/" + a + "-0.1.0.pom")),
                    a + " was installed: " + r.out());
        }

        // 2. the project, file by file from the page, built with Maven (its contract test runs)
        Path project = work.resolve("arch-loongarch64");
        Matcher m = FILE_BLOCK.matcher(page);
        List<String> files = new ArrayList<>();
        while (m.find()) {
            Path f = project.resolve(m.group(1));
            Files.createDirectories(f.getParent());
            Files.writeString(f, m.group(2) + "\n");
            files.add(m.group(1));
        }
        assertEquals(List.of("pom.xml", "src/main/java/com/example/guestdump/Loongarch64.java",
                "src/main/resources/reference.conf", "src/test/java/com/example/guestdump/Loongarch64ContractTest.java"),
                files, "the page's project files");
        t0 = System.nanoTime();
        List<String> build = new ArrayList<>(List.of(mvn(src), "-B", "-ntp", "package"));
        build.addAll(repoOptions(repo));
        r = run(project, build);
        r.expect(0);
        times.put("build the plugin (contract test included)", secs(t0));
        assertTrue(r.out().contains("Tests run: 1, Failures: 0, Errors: 0, Skipped: 0"), "the contract test ran: "
                + r.out());
        Path jar = project.resolve("target/arch-loongarch64-1.0.0.jar");
        try (JarFile j = new JarFile(jar.toFile())) {
            Manifest mf = j.getManifest();
            assertEquals("arch-loongarch64", mf.getMainAttributes().getValue("Plugin-Id"));
            assertEquals("1.0.0", mf.getMainAttributes().getValue("Plugin-Version"));
            assertEquals(">=0.1.0", mf.getMainAttributes().getValue("Plugin-Requires"));
            assertTrue(j.getEntry("META-INF/extensions.idx") != null, "PF4J's processor ran");
            assertFalse(j.stream().anyMatch(e -> e.getName().startsWith("io/guestdump/")
                    || e.getName().startsWith("org/pf4j/")), "the API is not bundled");
        }

        // 3. a copy of the distribution with the jar in its plugins/, dumping a snapshot
        Path dist = work.resolve("guestdump");
        assertEquals(0, new ProcessBuilder("cp", "-a", Dist.home().toString(), dist.toString()).inheritIO().start()
                .waitFor());
        Files.copy(jar, dist.resolve("plugins").resolve(jar.getFileName()));
        String launcher = dist.resolve("bin/guestdump").toString();
        Dist.Run archs = Dist.run(work, Map.of(), List.of(launcher, "archs")).expect(0);
        assertTrue(archs.out().contains("arch-loongarch64") && archs.out().contains("[loongarch64]")
                && archs.out().contains("EM_LOONGARCH (258)"), archs.out());

        Files.write(work.resolve("ram.bin"), new byte[] {1, 2, 3, 4, 5, 6, 7, 8});
        Files.writeString(work.resolve("regs.txt"), "CPU#0\npc=9000000000201000 r1=11\nCPU#1\npc=9000000000201004 "
                + "r31=1f\n");
        Files.writeString(work.resolve("la.conf"), "guest { arch = loongarch64\n memory = [ { start = \"0x0\","
                + " size = 8, file = ram.bin } ]\n cpu-state-from = regs.txt }\n");
        t0 = System.nanoTime();
        Dist.run(work, Map.of(), List.of(launcher, "dump", "snapshot:la.conf", "-o", "la.vmcore")).expect(0);
        times.put("dump with it", secs(t0));
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(work.resolve("la.vmcore"))).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(258, b.getShort(18), "e_machine EM_LOONGARCH");
        assertEquals(2, b.getShort(56), "e_phnum: PT_NOTE and one PT_LOAD");
        int notes = (int) b.getLong(64 + 8); // p_offset of the PT_NOTE
        int second = notes + 12 + 8 + 480; // the second CORE note: header, "CORE\0" padded to 8, 480-byte desc
        assertEquals(5, b.getInt(second), "n_namesz");
        assertEquals(480, b.getInt(second + 4), "n_descsz: the documented 480-byte elf_prstatus");
        assertEquals(1, b.getInt(second + 8), "NT_PRSTATUS");
        int desc = second + 20;
        assertEquals(2, b.getInt(desc + 32), "pr_pid = vCPU index + 1");
        assertEquals(0x1f, b.getLong(desc + 112 + 31 * 8), "r31");
        assertEquals(0x9000_0000_0020_1004L, b.getLong(desc + 112 + 33 * 8), "csr_era (pc)");
        Dist.Run info = Dist.run(work, Map.of(), List.of(launcher, "info", "la.vmcore")).expect(0);
        assertTrue(info.out().contains("EM_LOONGARCH"), info.out());

        StringBuilder report = new StringBuilder("out-of-tree plugin recipe (JDK " + System.getProperty(
                "java.version") + ")\n");
        times.forEach((k, v) -> report.append(String.format("  %-45s %s%n", k, v)));
        System.out.print(report);
    }

    /** The private repository, the build's own as a read-only tail, offline when the outer build is. */
    private static List<String> repoOptions(Path repo) {
        List<String> o = new ArrayList<>(List.of("-Dmaven.repo.local=" + repo));
        String tail = System.getProperty("guestdump.test.local-repo", "");
        if (!tail.isEmpty()) {
            o.add("-Dmaven.repo.local.tail=" + tail);
        }
        if (System.getProperty("guestdump.test.offline", "").equals("offline-true")) {
            o.add("-o");
        }
        return o;
    }

    /** The wrapper of the source copy, for the plugin build too (the Maven a plugin author has at hand). */
    private static String mvn(Path src) {
        return src.resolve("mvnw").toString();
    }

    /** Runs with the JDK in use and a generous limit (two Maven builds on a shared machine). */
    private static Dist.Run run(Path dir, List<String> cmd) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile());
        pb.environment().put("JAVA_HOME", Path.of(System.getProperty("java.home")).toString());
        Path out = Files.createTempFile(dir, "out", ".txt");
        pb.redirectErrorStream(true).redirectOutput(out.toFile());
        Process p = pb.start();
        if (!p.waitFor(900, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("timed out: " + cmd + "\n" + Files.readString(out));
        }
        Dist.Run r = new Dist.Run(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), "");
        Files.delete(out);
        return r;
    }

    /** Copies the source tree without .git and build output. */
    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                Path rel = from.relativize(p);
                String name = rel.toString();
                if (name.equals(".git") || name.startsWith(".git/") || name.equals("target")
                        || name.contains("/target/") || name.endsWith("/target") || name.startsWith("target/")) {
                    continue;
                }
                Path dst = to.resolve(name);
                if (Files.isDirectory(p)) {
                    Files.createDirectories(dst);
                } else if (Files.isRegularFile(p)) {
                    Files.copy(p, dst, java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
                }
            }
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    private static String secs(long t0) {
        return String.format("%.1f s", (System.nanoTime() - t0) / 1e9);
    }
}
