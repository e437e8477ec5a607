package io.guestdump.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issues 13 and 15, through the assembled launcher: what an operator's mistakes must never do. */
class OperatorSafetyIT {
    private static final int S_IFMT = 0170000;
    private static final int S_IFCHR = 0020000;

    @TempDir
    Path work;

    @Test
    void devFullWithForceStaysACharacterDeviceAndTheDumpExits1WithTheErrnoText() throws Exception {
        Dist.Run r = Dist.guestdump(work, "dump", "sample:", "-o", "/dev/full", "--force").expect(1);
        assertTrue(r.err().contains("No space left on device"), r.err());
        int mode = (Integer) Files.getAttribute(Path.of("/dev/full"), "unix:mode", LinkOption.NOFOLLOW_LINKS);
        assertEquals(S_IFCHR, mode & S_IFMT, "/dev/full is still a character device");
    }

    @Test
    void dumpWithoutASourceIsAUsageErrorNotTheSampleGuest() throws Exception {
        Dist.Run r = Dist.guestdump(work, "dump", "-o", "v").expect(2);
        assertTrue(r.err().contains("SOURCE") && r.err().contains("--help"), r.err());
        assertTrue(r.err().lines().count() <= 2, r.err());
        assertFalse(Files.exists(work.resolve("v")));
    }

    @Test
    void aBinaryDumpToATerminalIsRefused() throws Exception {
        Tools.require("script");
        // script(1) runs the launcher with a pseudo-terminal as its standard output
        Dist.Run r = Dist.run(work, Map.of(), List.of("script", "-qec",
                "'" + Dist.launcher() + "' dump sample: -o -", "/dev/null"));
        assertEquals(2, r.exit(), r.out() + r.err());
        assertTrue(r.out().contains("terminal"), r.out());
        assertTrue(r.out().length() < 2000, "no vmcore bytes on the terminal: " + r.out().length());
    }

    @Test
    void underUmask0777TheVmcoreIsStillMode0600() throws Exception {
        Dist.run(work, Map.of(), List.of("sh", "-c", "umask 0777; '" + Dist.launcher() + "' dump sample: -o v"))
                .expect(0);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(work.resolve("v"))));
    }

    @Test
    void quietPrintsNothingOnSuccessAndVerboseGoesBeforeTheCommand() throws Exception {
        Dist.Run r = Dist.guestdump(work, "dump", "sample:", "-o", "q", "--quiet").expect(0);
        assertEquals("", r.out() + r.err());
        assertTrue(Files.size(work.resolve("q")) > 3_000_000);
        Dist.guestdump(work, "--verbose", "archs").expect(0);
        assertTrue(Dist.guestdump(work, "--help").expect(0).out().contains("130"));
    }

    @Test
    void aLongTargetNameWorks() throws Exception {
        String name = "v".repeat(250);
        Dist.guestdump(work, "dump", "sample:", "-o", name).expect(0);
        assertTrue(Files.size(work.resolve(name)) > 3_000_000);
    }

    @Test
    void aPluginKeyOfTheWrongTypeIsExit2NamingKeyValueAndOrigin() throws Exception {
        Dist.Run r = Dist.guestdump(work, "dump", "sample:", "-o", "v", "-D",
                "guestdump.arch.x86_64.qemu-cpu-state-note=maybe").expect(2);
        assertTrue(r.err().contains("guestdump.arch.x86_64.qemu-cpu-state-note = \"maybe\"")
                && r.err().contains("-D guestdump.arch.x86_64.qemu-cpu-state-note")
                && r.err().contains("expected boolean"), r.err());
        assertFalse(Files.exists(work.resolve("v")));
    }

    @Test
    void aUnicodeOutputNameUnderLangCIsWrittenOrAClearExit2() throws Exception {
        Dist.Run r = Dist.run(work, Map.of("LANG", "C", "LC_ALL", "C"),
                List.of(Dist.launcher().toString(), "dump", "sample:", "-o", "vmcore-\u00e9t\u00e9"));
        assertTrue(r.exit() == 0 || r.exit() == 2 && r.err().contains("UTF-8 locale"), r.exit() + ": " + r.err());
        assertFalse(r.err().contains("\tat "), r.err());
    }

    @Test
    void aTypoInAPluginKeyIsAWarningNamingTheClosestKey() throws Exception {
        Dist.Run r = Dist.guestdump(work, "archs", "-D", "guestdump.arch.x86_64.qemu-cpu-state-notes=false").expect(0);
        assertTrue(r.err().contains("unknown setting guestdump.arch.x86_64.qemu-cpu-state-notes (set in -D "
                + "guestdump.arch.x86_64.qemu-cpu-state-notes) is ignored; did you mean "
                + "guestdump.arch.x86_64.qemu-cpu-state-note?"), r.err());
        assertEquals(1, r.err().lines().count(), r.err());
        assertEquals("", Dist.guestdump(work, "archs", "-D", "guestdump.arch.x86_64.qemu-cpu-state-note=false")
                .expect(0).err());
    }
}
