package io.guestdump.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Adding an architecture is dropping a jar into a plugins directory: a plugin compiled here, outside the reactor,
 * against the published plugin API in the distribution's lib/, shows up in {@code archs} and dumps a snapshot.
 */
class PluginDropInIT {
    @TempDir
    Path work;

    static final String SOURCE = """
            package com.example.toy;

            import io.guestdump.arch.api.*;
            import io.guestdump.elf.*;
            import java.math.BigInteger;
            import java.util.*;
            import org.pf4j.Extension;

            /** A toy LoongArch plugin (EM_LOONGARCH, 258): one CORE note per vCPU holding pr_pid and pc. */
            @Extension
            public class %s implements ArchitectureSupport {
                private final boolean loud;

                public %s(ArchContext ctx) {
                    loud = ctx.config().hasPath("loud") && ctx.config().getBoolean("loud");
                }

                public String id() { return "%s"; }
                public Set<String> machines() { return Set.of("%s"); }
                public Set<Integer> elfMachines() { return Set.of(258); }
                public DumpTarget describe(GuestState g) {
                    return new DumpTarget(258, ElfClass.ELF64, ElfData.LSB, 4096);
                }
                public List<CpuNote> cpuNotes(GuestState g, DumpTarget t) {
                    return List.of(new CpuNote("CORE", NoteType.NT_PRSTATUS, NoteGroup.ARCH, 16, (cpu, out) -> {
                        out.putInt(0, cpu.index() + 1);
                        out.putLong(8, cpu.u64("pc") + (loud ? 1 : 0));
                    }));
                }
                public List<VcpuState> parseMonitorRegisters(String text, String source) {
                    List<VcpuState> cpus = new ArrayList<>();
                    for (String line : text.split("\\n")) {
                        if (line.startsWith("pc=")) {
                            cpus.add(VcpuState.builder(cpus.size()).set("pc", new BigInteger(line.substring(3), 16)).build());
                        }
                    }
                    return cpus;
                }
                public Set<String> registerNames(String machine) { return Set.of("pc"); }
                public List<VcpuState> decodeNotes(List<Note> notes, DumpTarget t) { return List.of(); }
            }
            """;

    /** What to change in the compiled classes before they are packed (to build a broken jar). */
    interface ClassesEdit {
        void apply(Path classes) throws IOException;
    }

    /** Compiles the toy plugin against lib/ and packs it as a PF4J plugin jar. */
    Path buildPlugin(String pluginId, String className, String machine) throws IOException {
        return buildPlugin(pluginId, className, machine, classes -> { });
    }

    /** As {@link #buildPlugin(String, String, String)}, editing the classes before they are packed. */
    Path buildPlugin(String pluginId, String className, String machine, ClassesEdit edit) throws IOException {
        return buildPlugin(pluginId, className, machine, edit, true);
    }

    /** As above; with {@code inManifest} false the manifest says nothing of the plugin (plugin.properties may). */
    Path buildPlugin(String pluginId, String className, String machine, ClassesEdit edit, boolean inManifest)
            throws IOException {
        Path src = work.resolve("src-" + pluginId + "/com/example/toy/" + className + ".java");
        Files.createDirectories(src.getParent());
        Files.writeString(src, String.format(SOURCE, className, className, machine, machine));
        Path classes = Files.createDirectories(work.resolve("classes-" + pluginId));
        String cp;
        try (Stream<Path> jars = Files.list(Dist.home().resolve("lib"))) {
            cp = jars.map(Path::toString).filter(p -> p.matches(".*/(guestdump-(plugin-api|elf|memory)|pf4j|config)-.*"))
                    .collect(Collectors.joining(":"));
        }
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        int rc = javac.run(null, null, null, "--release", "17", "-cp", cp, "-d", classes.toString(), src.toString());
        assertEquals(0, rc, "javac failed");
        assertTrue(Files.exists(classes.resolve("META-INF/extensions.idx")), "PF4J's processor wrote extensions.idx");
        edit.apply(classes);
        Manifest mf = new Manifest();
        Attributes a = mf.getMainAttributes();
        a.put(Attributes.Name.MANIFEST_VERSION, "1.0");
        if (inManifest) {
            a.putValue("Plugin-Id", pluginId);
            a.putValue("Plugin-Version", "1.0.0");
            a.putValue("Plugin-Requires", ">=0.1.0");
        }
        Path jar = Files.createDirectories(work.resolve("plugins-" + pluginId)).resolve(pluginId + "-1.0.0.jar");
        try (OutputStream os = Files.newOutputStream(jar); JarOutputStream out = new JarOutputStream(os, mf);
                Stream<Path> files = Files.walk(classes)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                out.putNextEntry(new JarEntry(classes.relativize(f).toString()));
                out.write(Files.readAllBytes(f));
                out.closeEntry();
            }
        }
        return jar;
    }

    private static String dirs(Path... extra) {
        List<String> all = new ArrayList<>();
        all.add("\"" + Dist.home().resolve("plugins") + "\"");
        for (Path p : extra) {
            all.add("\"" + p + "\"");
        }
        return "-Dguestdump.plugins.dirs=" + all;
    }

    @Test
    void aJarDroppedIntoAPluginsDirectoryAddsAnArchitecture() throws Exception {
        Path jar = buildPlugin("arch-loongarch64", "Loongarch64", "loongarch64");
        Dist.Run archs = Dist.guestdump(work, "archs", dirs(jar.getParent())).expect(0);
        assertTrue(archs.out().contains("arch-loongarch64") && archs.out().contains("[loongarch64]"), archs.out());
        assertTrue(archs.out().contains(jar.toString()), archs.out());

        Files.write(work.resolve("ram.bin"), new byte[] {1, 2, 3, 4, 5, 6, 7, 8});
        Files.writeString(work.resolve("regs.txt"), "pc=80001000\npc=80002000\n");
        Files.writeString(work.resolve("rv.conf"), "guest { arch = loongarch64\n memory = [ { start = \"0x80000000\","
                + " size = 8, file = ram.bin } ]\n cpu-state-from = regs.txt }\n");
        Dist.guestdump(work, "dump", "snapshot:rv.conf", "-o", "rv.vmcore", dirs(jar.getParent())).expect(0);
        byte[] f = Files.readAllBytes(work.resolve("rv.vmcore"));
        ByteBuffer b = ByteBuffer.wrap(f).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(258, b.getShort(18), "e_machine EM_LOONGARCH");
        assertEquals(2, b.getShort(56), "e_phnum: PT_NOTE and one PT_LOAD");
        // notes start after the 2 program headers; the second CORE note holds pid 2 and pc 0x80002000
        int notes = 64 + 2 * 56;
        int second = notes + 12 + 8 + 16;
        assertEquals(2, b.getInt(second + 20));
        assertEquals(0x80002000L, b.getLong(second + 20 + 8));
        assertEquals(8, f[f.length - 1], "the last memory byte ends the file");

        // the plugin's config subtree reaches it: guestdump.arch.loongarch64.loud
        Dist.guestdump(work, "dump", "snapshot:rv.conf", "-o", "loud.vmcore", dirs(jar.getParent()),
                "-D", "guestdump.arch.loongarch64.loud=true").expect(0);
        ByteBuffer l = ByteBuffer.wrap(Files.readAllBytes(work.resolve("loud.vmcore"))).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(0x80002001L, l.getLong(second + 20 + 8));
    }

    /**
     * The plugin manager asks the manifest first (start-up); a jar whose manifest has no Plugin-Id and that describes
     * itself in plugin.properties still loads, and its own reference.conf (parsed apart from the framework's) sets
     * its defaults under the user's settings.
     */
    @Test
    void aJarDescribedByPluginPropertiesLoadsWithItsOwnReferenceConf() throws Exception {
        Path jar = buildPlugin("arch-loongarch64", "Loongarch64", "loongarch64", classes -> {
            Files.writeString(classes.resolve("plugin.properties"),
                    "plugin.id=arch-loongarch64\nplugin.version=2.0.0\nplugin.requires=>=0.1.0\n");
            Files.writeString(classes.resolve("reference.conf"), "guestdump.arch.loongarch64.loud = true\n");
        }, false);
        Dist.Run archs = Dist.guestdump(work, "archs", dirs(jar.getParent())).expect(0);
        assertTrue(archs.out().contains("arch-loongarch64 2.0.0") && archs.out().contains("[loongarch64]"),
                archs.out());
        Files.write(work.resolve("ram.bin"), new byte[] {1, 2, 3, 4, 5, 6, 7, 8});
        Files.writeString(work.resolve("regs.txt"), "pc=80001000\n");
        Files.writeString(work.resolve("la.conf"), "guest { arch = loongarch64\n memory = [ { start = \"0x80000000\","
                + " size = 8, file = ram.bin } ]\n cpu-state-from = regs.txt }\n");
        int pc = 64 + 2 * 56 + 12 + 8 + 8;
        Dist.guestdump(work, "dump", "snapshot:la.conf", "-o", "ref.vmcore", dirs(jar.getParent())).expect(0);
        ByteBuffer ref = ByteBuffer.wrap(Files.readAllBytes(work.resolve("ref.vmcore"))).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(0x80001001L, ref.getLong(pc), "loud = true from the plugin's reference.conf");
        Dist.guestdump(work, "dump", "snapshot:la.conf", "-o", "user.vmcore", dirs(jar.getParent()),
                "-D", "guestdump.arch.loongarch64.loud=false").expect(0);
        ByteBuffer user = ByteBuffer.wrap(Files.readAllBytes(work.resolve("user.vmcore"))).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(0x80001000L, user.getLong(pc), "the user's -D over the plugin's reference.conf");
    }

    @Test
    void twoPluginsClaimingOneArchitectureIsAnErrorNamingBothJars() throws Exception {
        Path dup = buildPlugin("arch-x86-alt", "X86Alt", "x86_64");
        Dist.Run r = Dist.guestdump(work, "archs", dirs(dup.getParent())).expect(2);
        assertTrue(r.err().contains("Two plugins claim guest architecture x86_64"), r.err());
        assertTrue(r.err().contains("arch-x86_64-0.1.0.jar") && r.err().contains(dup.toString()), r.err());
        assertTrue(r.err().contains("guestdump.plugins.disabled"), r.err());
        // the fix the message suggests works
        Dist.guestdump(work, "archs", dirs(dup.getParent()), "-Dguestdump.plugins.disabled=[arch-x86-alt]").expect(0);
    }

    @Test
    void aBrokenJarIsLoggedWithItsPathAndTheOthersStillLoad() throws Exception {
        Path dir = Files.createDirectories(work.resolve("broken-plugins"));
        Files.writeString(dir.resolve("arch-broken-1.0.0.jar"), "this is not a zip file");
        Dist.Run r = Dist.guestdump(work, "archs", dirs(dir)).expect(1);
        assertTrue(r.out().contains("arch-x86_64") && r.out().contains("arch-arm"), r.out());
        String broken = dir.resolve("arch-broken-1.0.0.jar").toString();
        assertTrue(r.err().contains("plugin jar " + broken + " cannot be loaded"), r.err());
        assertTrue(r.out().contains("problem: plugin jar " + broken), r.out());
        assertTrue(!r.err().contains("\tat "), "one line, no stack trace: " + r.err());
    }

    @Test
    void aPluginWhoseConstructorThrowsIsNamedWithItsJarAndTheOthersStillWork() throws Exception {
        Path jar = buildPlugin("arch-loud", "Loud", "loud"); // not riscv64: arch-riscv64 is bundled
        String bad = "-Dguestdump.arch.loud.loud=maybe"; // getBoolean throws in the plugin's constructor
        Dist.Run r = Dist.guestdump(work, "archs", dirs(jar.getParent()), bad).expect(1);
        assertTrue(r.out().contains("arch-x86_64") && r.out().contains("arch-s390x"), "the others load: " + r.out());
        assertTrue(r.out().contains("problem: plugin arch-loud at " + jar + " failed to start"), r.out());
        assertTrue(r.out().contains("loud"), "the message names the bad setting: " + r.out());
        assertTrue(r.out().contains("guestdump.plugins.disabled = [\"arch-loud\"]"), r.out());
        assertTrue(!r.err().contains("\tat "), "one line, no stack trace: " + r.err());

        // a dump of another architecture still works (it exited 70 before)
        Dist.guestdump(work, "sample-guest", "--output-dir", work.resolve("g").toString()).expect(0);
        Dist.guestdump(work, "dump", "snapshot:" + work.resolve("g/sample-x86_64.conf"), "-o", "x.vmcore",
                dirs(jar.getParent()), bad).expect(0);
    }

    @Test
    void aJarWithoutAnExtensionIndexIsNamedWithTheReason() throws Exception {
        Path jar = buildPlugin("arch-noindex", "NoIndex", "noindex",
                classes -> Files.delete(classes.resolve("META-INF/extensions.idx")));
        Dist.Run r = Dist.guestdump(work, "archs", dirs(jar.getParent())).expect(1);
        assertTrue(r.out().contains("arch-x86_64"), r.out());
        assertTrue(r.out().contains("problem: plugin arch-noindex at " + jar + " adds no architecture: the jar has "
                + "no META-INF/extensions.idx"), r.out());
        assertTrue(r.out().contains("-proc:full"), "says how to fix it: " + r.out());
    }

    @Test
    void aJarThatBundlesThePluginApiIsNamedWithTheReason() throws Exception {
        Path api;
        try (Stream<Path> jars = Files.list(Dist.home().resolve("lib"))) {
            api = jars.filter(p -> p.getFileName().toString().startsWith("guestdump-plugin-api-")).findFirst()
                    .orElseThrow();
        }
        Path jar = buildPlugin("arch-fat", "Fat", "fat", classes -> {
            try (java.util.zip.ZipFile zip = new java.util.zip.ZipFile(api.toFile())) {
                for (java.util.zip.ZipEntry e : java.util.Collections.list(zip.entries())) {
                    if (e.getName().endsWith(".class")) {
                        Path to = classes.resolve(e.getName());
                        Files.createDirectories(to.getParent());
                        try (var in = zip.getInputStream(e)) {
                            Files.copy(in, to);
                        }
                    }
                }
            }
        });
        Dist.Run r = Dist.guestdump(work, "archs", dirs(jar.getParent())).expect(1);
        assertTrue(r.out().contains("arch-x86_64"), r.out());
        assertTrue(r.out().contains("problem: plugin arch-fat at " + jar + " adds no architecture: it bundles the "
                + "plugin API (io/guestdump/arch/api/ArchitectureSupport.class)"), r.out());
        assertTrue(r.out().contains("provided scope"), "says how to fix it: " + r.out());
    }
}
