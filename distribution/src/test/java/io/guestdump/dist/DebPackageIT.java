package io.guestdump.dist;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Debian package: its control fields and files, and the packaged launcher run from the extracted tree. */
class DebPackageIT {
    @TempDir
    Path work;

    private static Path deb() {
        Tools.require("dpkg-deb");
        Path deb = Dist.home().getParent().resolve("guestdump_" + PackagingIT.version() + "_all.deb");
        assertTrue(Files.isRegularFile(deb), "no " + deb + "; run mvn package");
        return deb;
    }

    @Test
    void controlFieldsNameTheVersionAndTheJavaRuntime() throws Exception {
        String info = Dist.run(work, Map.of(), List.of("dpkg-deb", "-I", deb().toString())).expect(0).out();
        assertTrue(info.contains("Package: guestdump\n"), info);
        assertTrue(info.contains("Version: " + PackagingIT.version() + "\n"), info);
        assertTrue(info.contains("Architecture: all\n"), info);
        assertTrue(info.contains("Depends: default-jre-headless (>= 2:1.17) | java17-runtime-headless"), info);
        String postinst = Dist.run(work, Map.of(), List.of("dpkg-deb", "-I", deb().toString(), "postinst")).expect(0)
                .out();
        assertTrue(postinst.contains("GUESTDUMP_CDS=rebuild /usr/share/guestdump/bin/guestdump"), postinst);
        String conffiles = Dist.run(work, Map.of(), List.of("dpkg-deb", "-I", deb().toString(), "conffiles"))
                .expect(0).out();
        assertTrue(conffiles.contains("/etc/guestdump/guestdump.conf"), conffiles);
    }

    @Test
    void filesAreInTheirDebianPlaces() throws Exception {
        String list = Dist.run(work, Map.of(), List.of("dpkg-deb", "-c", deb().toString())).expect(0).out();
        for (String f : List.of("./usr/bin/guestdump -> ../share/guestdump/bin/guestdump",
                "./usr/share/guestdump/bin/guestdump", "./usr/share/guestdump/lib/guestdump-cli-",
                "./usr/share/guestdump/plugins/arch-x86_64-", "./etc/guestdump/guestdump.conf",
                "./usr/share/guestdump/config -> /etc/guestdump", "./usr/share/man/man1/guestdump.1.gz",
                "./usr/share/man/man1/guestdump-dump.1.gz", "./usr/share/bash-completion/completions/guestdump",
                "./usr/share/doc/guestdump/copyright", "./usr/share/doc/guestdump/README.md")) {
            assertTrue(list.contains(f), f + " missing from:\n" + list);
        }
        assertTrue(list.lines().anyMatch(l -> l.startsWith("-rwxr-xr-x") && l.endsWith(
                "./usr/share/guestdump/bin/guestdump")), "the launcher is executable");
    }

    @Test
    void thePackagedLauncherRunsFromTheExtractedTree() throws Exception {
        Path root = work.resolve("root");
        Dist.run(work, Map.of(), List.of("dpkg-deb", "-x", deb().toString(), root.toString())).expect(0);
        String launcher = root.resolve("usr/bin/guestdump").toString();
        // /usr/share/guestdump/config links to /etc/guestdump, which is not installed here
        Map<String, String> env = Map.of("JAVA_OPTS", "-Dguestdump.config-dir=" + root.resolve("etc/guestdump"));
        Dist.Run archs = Dist.run(work, env, List.of(launcher, "archs", "--json")).expect(0);
        for (String id : List.of("arch-x86_64", "arch-i386", "arch-ppc64", "arch-s390x", "arch-arm")) {
            assertTrue(archs.out().contains("\"plugin\":\"" + id + "\""), id + " missing: " + archs.out());
        }
        Dist.Run dump = Dist.run(work, env, List.of(launcher, "dump",
                "snapshot:" + root.resolve("etc/guestdump/guests/sample-x86_64.conf"), "-o", "v.vmcore")).expect(0);
        assertTrue(dump.out().contains("EM_X86_64"), dump.out());
        assertTrue(Files.size(work.resolve("v.vmcore")) > 3_000_000);
    }
}
