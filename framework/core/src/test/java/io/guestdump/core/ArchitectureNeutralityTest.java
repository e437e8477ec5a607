package io.guestdump.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Architecture knowledge lives in plugins (issue 10): nothing under framework/{@literal *}/src/main, code, config,
 * resources or comments, names an architecture. A per-architecture fact goes behind the plugin API instead.
 */
class ArchitectureNeutralityTest {
    /** Architecture names as QEMU, Debian, the kernel and elf.h spell them, case-insensitive. */
    static final Pattern ARCH_NAME = Pattern.compile("x86|i[3-6]86|amd64|x64\\b|ia64|aarch64|arm64|armhf|armel|"
            + "\\barm(32|v\\d+\\w*|eb|el)?\\b|ppc|powerpc|s390|riscv|mips|sparc|loongarch|alpha\\b|m68k|hppa|microblaze"
            + "|xtensa|openrisc|tricore", Pattern.CASE_INSENSITIVE);

    /** The framework modules, from this module's directory (framework/core, where Surefire runs). */
    private static final Path FRAMEWORK = Path.of("..").toAbsolutePath().normalize();

    @Test
    void noFileUnderFrameworkSrcMainNamesAnArchitecture() throws IOException {
        List<String> hits = new ArrayList<>();
        List<Path> mains = new ArrayList<>();
        try (Stream<Path> modules = Files.list(FRAMEWORK)) {
            for (Path module : modules.sorted().toList()) {
                Path main = module.resolve("src/main");
                if (Files.isDirectory(main)) {
                    mains.add(main);
                }
            }
        }
        // the scan must see the framework, or it proves nothing
        for (String module : List.of("core", "cli", "elf", "memory", "plugin-api", "testkit")) {
            assertTrue(mains.contains(FRAMEWORK.resolve(module).resolve("src/main")), module + " not found under "
                    + FRAMEWORK);
        }
        int files = 0;
        for (Path main : mains) {
            try (Stream<Path> all = Files.walk(main)) {
                for (Path f : all.filter(Files::isRegularFile).sorted().toList()) {
                    files++;
                    String name = FRAMEWORK.relativize(f).toString();
                    if (ARCH_NAME.matcher(name).find()) {
                        hits.add(name + ": the file name");
                    }
                    List<String> lines = Files.readAllLines(f, StandardCharsets.ISO_8859_1);
                    for (int i = 0; i < lines.size(); i++) {
                        Matcher m = ARCH_NAME.matcher(lines.get(i));
                        if (m.find()) {
                            hits.add(name + ":" + (i + 1) + ": " + m.group() + " in `" + lines.get(i).strip() + "`");
                        }
                    }
                }
            }
        }
        assertTrue(files > 100, "only " + files + " files scanned under " + mains);
        assertEquals(List.of(), hits, "architecture names under framework/*/src/main: move the knowledge into the "
                + "arch-* plugins behind the plugin API (ArchitectureSupport methods with defaults)");
    }

    @Test
    void thePatternCatchesArchitectureNamesAndSparesOrdinaryWords() {
        for (String name : List.of("EM_X86_64", "i386", "i686", "amd64", "aarch64", "arm64", "armhf", "arm", "ARM",
                "armv7l", "ppc64le", "PowerPC", "s390x", "riscv64", "mips64el", "sparc64", "loongarch64", "x64")) {
            assertTrue(ARCH_NAME.matcher(name).find(), name);
        }
        for (String word : List.of("warm", "alarm", "harmless", "armour", "parameter", "sample-guest", "machine",
                "alphabet", "swapper_pg_dir")) {
            assertFalse(ARCH_NAME.matcher(word).find(), word);
        }
    }
}
