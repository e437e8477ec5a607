package io.guestdump.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a user unpacks and runs: the versioned tar.gz (LICENSE, docs, generated man pages and completion) and the
 * launcher's handling of its environment (Java version, JAVA_HOME, JAVA_OPTS, the locale, native access, the
 * class-data archive).
 */
class PackagingIT {
    @TempDir
    Path work;

    static String version() {
        return System.getProperty("guestdump.test.version", "0.1.0");
    }

    static Path tarball() {
        Path tar = Dist.home().getParent().resolve("guestdump-" + version() + ".tar.gz");
        assertTrue(Files.isRegularFile(tar), "no " + tar + "; run mvn package");
        return tar;
    }

    private Path unpack() throws Exception {
        Dist.run(work, Map.of(), List.of("tar", "xzf", tarball().toString())).expect(0);
        return work.resolve("guestdump-" + version());
    }

    @Test
    void tarballUnpacksIntoOneVersionedDirectory() throws Exception {
        Dist.Run list = Dist.run(work, Map.of(), List.of("tar", "tzf", tarball().toString())).expect(0);
        List<String> tops = list.out().lines().map(l -> l.split("/", 2)[0]).distinct().toList();
        assertEquals(List.of("guestdump-" + version()), tops, "top-level entries of the tar.gz");
        assertFalse(list.out().contains("guestdump.jsa"), "the class-data archive is machine-specific: " + list.out());
        Path home = unpack();
        assertTrue(Files.isExecutable(home.resolve("bin/guestdump")));
        assertTrue(Dist.run(work, Map.of(), List.of(home.resolve("bin/guestdump").toString(), "--version")).expect(0)
                .out().contains("guestdump " + version()));
        Dist.Run archs = Dist.run(work, Map.of(), List.of(home.resolve("bin/guestdump").toString(), "archs", "--json"))
                .expect(0);
        assertTrue(archs.out().contains("\"plugin\":\"arch-x86_64\""), archs.out());
    }

    @Test
    void tarballCarriesLicenseDocsManPagesAndCompletion() throws Exception {
        Path home = unpack();
        assertTrue(Files.readString(home.resolve("LICENSE")).contains("Apache License"), "LICENSE");
        assertTrue(Files.readString(home.resolve("LICENSE")).contains("Version 2.0, January 2004"), "LICENSE");
        assertTrue(Files.isRegularFile(home.resolve("README.md")));
        assertTrue(Files.isRegularFile(home.resolve("docs/vmcore-format.md")));
        assertTrue(Files.isRegularFile(home.resolve("docs/writing-a-plugin.md")));
        // one roff man page per command, generated from the command classes
        for (String page : List.of("guestdump", "guestdump-dump", "guestdump-info", "guestdump-archs")) {
            String roff = Files.readString(home.resolve("man/man1/" + page + ".1"));
            assertTrue(roff.contains(".TH \"" + page.toUpperCase().replace("-", "\\-") + "\" \"1\""), page + ": " + roff.lines().limit(12)
                    .toList());
            assertTrue(roff.contains("guestdump " + version()), page + " names the version");
        }
        String top = Files.readString(home.resolve("man/man1/guestdump.1"));
        for (String command : List.of("dump", "info", "archs")) {
            assertTrue(top.contains(command), "guestdump.1 lists " + command);
        }
        assertTrue(Files.readString(home.resolve("man/man1/guestdump-dump.1")).contains("\\-\\-format"),
                "guestdump-dump.1 documents --format");
        assertTrue(Files.isRegularFile(home.resolve("completion/guestdump.bash")));
    }

    @Test
    void libraryModulesComeWithJavadocAndSourcesJars() throws Exception {
        Path framework = Dist.home().getParent().getParent().getParent().resolve("framework");
        for (String module : List.of("elf", "memory", "plugin-api", "core", "cli")) {
            for (String kind : List.of("sources", "javadoc")) {
                Path jar = framework.resolve(module + "/target/guestdump-" + module + "-" + version() + "-" + kind
                        + ".jar");
                assertTrue(Files.isRegularFile(jar), "no " + jar + " (built by mvn package)");
            }
        }
        String jarTool = Path.of(System.getProperty("java.home"), "bin", "jar").toString();
        Path core = framework.resolve("core/target");
        String javadoc = Dist.run(work, Map.of(), List.of(jarTool, "tf",
                core.resolve("guestdump-core-" + version() + "-javadoc.jar").toString())).expect(0).out();
        assertTrue(javadoc.contains("io/guestdump/core/GuestDumper.Builder.html"), javadoc);
        String sources = Dist.run(work, Map.of(), List.of(jarTool, "tf",
                core.resolve("guestdump-core-" + version() + "-sources.jar").toString())).expect(0).out();
        assertTrue(sources.contains("io/guestdump/core/GuestDumper.java"), sources);
    }

    @Test
    void bashCompletionCompletesCommandsAndOptions() throws Exception {
        Path script = unpack().resolve("completion/guestdump.bash");
        assertEquals("archs", complete(script, "guestdump ar"));
        assertTrue(complete(script, "guestdump dump --for").contains("--format"));
    }

    @Test
    void zshCompletesThroughBashcompinit() throws Exception {
        Tools.require("zsh");
        Path script = unpack().resolve("completion/guestdump.bash");
        // sourcing it in zsh loads compinit and bashcompinit and registers the bash function with zsh's system
        String body = "source '" + script + "'\nprint -r -- \"${_comps[guestdump]}\"\n"
                + "emulate sh -c 'COMP_WORDS=(guestdump ar); COMP_CWORD=1; _complete_guestdump; "
                + "printf \"%s\\n\" \"${COMPREPLY[@]}\"'\n";
        String out = Dist.run(work, Map.of("HOME", work.toString()), List.of("zsh", "-f", "-c", body)).expect(0).out();
        assertTrue(out.startsWith("_bash_complete -F _complete_guestdump"), out);
        assertTrue(out.lines().anyMatch("archs"::equals), out);
    }

    /** Sources the completion script in bash and asks it to complete {@code line}. */
    private String complete(Path script, String line) throws Exception {
        String[] words = line.split(" ");
        String body = "source '" + script + "'\n"
                + "COMP_WORDS=(" + line + ")\n"
                + "COMP_CWORD=" + (words.length - 1) + "\n"
                + "COMP_LINE='" + line + "'\n"
                + "COMP_POINT=" + line.length() + "\n"
                + "_complete_guestdump\n"
                + "printf '%s\\n' \"${COMPREPLY[@]}\"\n";
        return Dist.run(work, Map.of("HOME", work.toString()), List.of("bash", "-c", body)).expect(0).out().strip();
    }

    @Test
    void javaOptsAreSplitLikeQuotedShellWordsWithoutExpansion() throws Exception {
        Path confDir = work.resolve("my config");
        Files.createDirectories(confDir);
        Files.writeString(confDir.resolve("guestdump.conf"), "guestdump.plugins.disabled = [\"arch-arm\"]\n");
        // a word that would glob-match a file in the working directory if it were expanded
        Files.writeString(work.resolve("-Dguestdump.glob=expanded"), "");
        Dist.Run r = Dist.run(work, Map.of("JAVA_OPTS",
                "-Dguestdump.config-dir=\"" + confDir + "\" '-Dguestdump.glob=*'"),
                List.of(Dist.launcher().toString(), "archs", "--json")).expect(0);
        assertFalse(r.out().contains("arch-arm"), "the quoted config directory was read: " + r.out());
        assertTrue(r.out().contains("arch-x86_64"), r.out());
        Dist.Run bad = Dist.run(work, Map.of("JAVA_OPTS", "-Dx=\"unbalanced"),
                List.of(Dist.launcher().toString(), "archs")).expect(2);
        assertTrue(bad.err().contains("JAVA_OPTS cannot be split into words"), bad.err());
        assertTrue(bad.err().contains("-Dx=\"unbalanced"), bad.err());
    }

    @Test
    void aJavaHomeWithoutJavaIsAClearError() throws Exception {
        Dist.Run r = Dist.run(work, Map.of("JAVA_HOME", work.resolve("nojava").toString()),
                List.of(Dist.launcher().toString(), "archs")).expect(2);
        assertTrue(r.err().contains("JAVA_HOME is " + work.resolve("nojava")), r.err());
        assertTrue(r.err().contains("Java 17 or newer"), r.err());
    }

    @Test
    void aJavaOlderThan17IsAClearError() throws Exception {
        Path jdk = work.resolve("jdk-11");
        Files.createDirectories(jdk.resolve("bin"));
        Path java = jdk.resolve("bin/java");
        Files.writeString(java, "#!/bin/sh\necho 'openjdk version \"11.0.21\" 2023-10-17' >&2\n");
        java.toFile().setExecutable(true);
        Dist.Run r = Dist.run(work, Map.of("JAVA_HOME", jdk.toString()), List.of(Dist.launcher().toString(), "archs"))
                .expect(2);
        assertTrue(r.err().contains("is Java 11.0.21; guestdump needs Java 17 or newer"), r.err());
        // the runtime's release file is read first, without starting it
        Files.writeString(jdk.resolve("release"), "JAVA_VERSION=\"1.8.0_392\"\n");
        r = Dist.run(work, Map.of("JAVA_HOME", jdk.toString()), List.of(Dist.launcher().toString(), "archs")).expect(2);
        assertTrue(r.err().contains("is Java 1.8.0_392; guestdump needs Java 17 or newer"), r.err());
    }

    @Test
    void unicodeOutputPathWorksUnderLangC() throws Exception {
        // the name is made by printf from octal escapes, so this test does not depend on its own JVM's charset
        String name = "$(printf '\\303\\274-\\342\\202\\254.vmcore')";
        Dist.Run r = Dist.run(work, Map.of("LANG", "C", "LC_ALL", "C"), List.of("sh", "-c",
                "'" + Dist.launcher() + "' dump 'snapshot:" + Dist.home().resolve("config/guests/sample-x86_64.conf")
                        + "' -o \"" + name + "\" && test -s \"" + name + "\" && ls")).expect(0);
        assertTrue(r.out().contains("vmcore"), r.out());
        assertFalse(r.err().contains("Malformed input"), r.err());
    }

    @Test
    void nativeAccessIsEnabledSoJdk22PlusDoesNotWarn() throws Exception {
        Path jdk = newestJdkAtLeast(22);
        assumeTrue(jdk != null, "skipped: no JDK 22 or newer under /usr/lib/jvm to check zstd-jni's warning");
        Dist.Run r = Dist.run(work, Map.of("JAVA_HOME", jdk.toString()), List.of(Dist.launcher().toString(), "dump",
                "snapshot:" + Dist.home().resolve("config/guests/sample-x86_64.conf"), "-o", "z.vmcore",
                "--format", "kdump-zstd")).expect(0);
        assertFalse(r.err().contains("restricted method"), r.err());
        assertFalse(r.err().contains("WARNING"), r.err());
    }

    private static Path newestJdkAtLeast(int major) throws IOException {
        Path jvms = Path.of("/usr/lib/jvm");
        if (!Files.isDirectory(jvms)) {
            return null;
        }
        List<Path> found = new ArrayList<>();
        try (Stream<Path> dirs = Files.list(jvms)) {
            for (Path d : dirs.toList()) {
                Path release = d.resolve("release");
                if (Files.isExecutable(d.resolve("bin/java")) && Files.isRegularFile(release)) {
                    String v = Files.readAllLines(release).stream().filter(l -> l.startsWith("JAVA_VERSION="))
                            .findFirst().orElse("").replaceAll("[^0-9.]", "");
                    String m = v.split("\\.")[0];
                    if (!m.isEmpty() && Integer.parseInt(m) >= major) {
                        found.add(d);
                    }
                }
            }
        }
        return found.isEmpty() ? null : found.get(0);
    }

    @Test
    void classDataArchiveIsUsedWhenItMatchesAndIgnoredSilentlyOtherwise() throws Exception {
        Path archive = Dist.home().resolve("lib/guestdump.jsa");
        assertTrue(Files.isRegularFile(archive), "the package step builds " + archive);
        Path log = work.resolve("classes.log");
        Dist.run(work, Map.of("JAVA_OPTS", "-Xlog:class+load:file=" + log), List.of(Dist.launcher().toString(),
                "archs")).expect(0);
        assertTrue(Files.readString(log).contains("source: shared objects file (top)"),
                "guestdump's classes come from the archive");
        // a copy elsewhere does not match the archive's class path: the JVM runs without it and says nothing
        Path copy = work.resolve("moved");
        Dist.run(work, Map.of(), List.of("cp", "-a", Dist.home().toString(), copy.toString())).expect(0);
        Dist.Run r = Dist.run(work, Map.of(), List.of(copy.resolve("bin/guestdump").toString(), "archs", "--json"))
                .expect(0);
        assertTrue(r.out().startsWith("{\"schema\":1,\"plugins\""), r.out());
        assertEquals("", r.err());
        // and can be given its own
        Dist.run(work, Map.of("GUESTDUMP_CDS", "rebuild"), List.of(copy.resolve("bin/guestdump").toString()))
                .expect(0);
        Dist.run(work, Map.of("JAVA_OPTS", "-Xlog:class+load:file=" + log), List.of(copy.resolve("bin/guestdump")
                .toString(), "archs")).expect(0);
        assertTrue(Files.readString(log).contains("source: shared objects file (top)"), "rebuilt archive used");
    }

    @Test
    void dumpsThatLeaveOutFreePagesRunWithoutTheOptimisingCompiler() throws Exception {
        // level -> the TieredStopAtLevel the JVM runs with (1: C1 only; 4: the default, with C2)
        Map<List<String>, String> cases = new java.util.LinkedHashMap<>();
        cases.put(List.of("--dump-level", "31"), "1");
        cases.put(List.of("--dump-level=16"), "1");
        cases.put(List.of("--dump-level", "15"), "4");
        cases.put(List.of(), "4");
        java.util.regex.Pattern flag = java.util.regex.Pattern.compile("TieredStopAtLevel\\s+=\\s+(\\d+)");
        for (Map.Entry<List<String>, String> c : cases.entrySet()) {
            List<String> cmd = new java.util.ArrayList<>(List.of(Dist.launcher().toString(), "dump", "sample:", "-f",
                    "-o", work.resolve("x.elf").toString()));
            cmd.addAll(c.getKey());
            // the sample guest has no VMCOREINFO, so levels above 1 fail after the JVM has started: only the flag counts
            Dist.Run r = Dist.run(work, Map.of("JAVA_OPTS", "-XX:+PrintFlagsFinal"), cmd);
            java.util.regex.Matcher m = flag.matcher(r.out());
            assertTrue(m.find(), r.out() + r.err());
            assertEquals(c.getValue(), m.group(1), "TieredStopAtLevel for " + c.getKey());
        }
    }
}
