package io.guestdump.dist;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The assembled launcher, run as a user would, from another working directory. */
class LauncherIT {
    @TempDir
    Path work;

    @Test
    void dumpsTheBundledSampleNamedSampleAndSaysWhereAndWhatInAFewLines() throws Exception {
        Dist.Run r = Dist.guestdump(work, "dump", "sample:", "-o", "vmcore").expect(0);
        Path out = work.resolve("vmcore");
        assertTrue(r.out().contains("wrote " + out), r.out());
        assertTrue(r.out().contains("ELF64 LSB EM_X86_64 (62), 2 vCPUs"), r.out());
        assertTrue(r.out().contains("VMCOREINFO: from snapshot file"), r.out());
        assertTrue(r.out().lines().count() <= 5, "a short summary; info has the listing: " + r.out());
        assertTrue(Dist.guestdump(work, "info", "vmcore").expect(0).out().contains("rip=0xffffffff81001002"));
        // every byte of the sample's RAM is in the vmcore after the headers and notes
        byte[] ram = Files.readAllBytes(Dist.home().resolve("config/guests/sample-x86_64-ram.bin"));
        byte[] file = Files.readAllBytes(out);
        byte[] tail = java.util.Arrays.copyOfRange(file, file.length - ram.length, file.length);
        assertArrayEquals(ram, tail);
    }

    @Test
    void standardOutputGetsTheSameBytesAsAFile() throws Exception {
        Dist.guestdump(work, "dump", "sample:", "-o", "a.vmcore").expect(0);
        Dist.Run r = Dist.run(work, Map.of(), List.of("sh", "-c", "'" + Dist.launcher() + "' dump sample: -o - > b.vmcore"))
                .expect(0);
        assertArrayEquals(Files.readAllBytes(work.resolve("a.vmcore")), Files.readAllBytes(work.resolve("b.vmcore")));
        assertTrue(r.err().contains("wrote standard output"), r.err());
    }

    @Test
    void anExistingTargetNeedsForce() throws Exception {
        Files.writeString(work.resolve("vmcore"), "old");
        Dist.Run r = Dist.guestdump(work, "dump", "sample:", "-o", "vmcore").expect(2);
        assertTrue(r.err().contains("already exists; pass --force"), r.err());
        assertEquals("old", Files.readString(work.resolve("vmcore")));
        Dist.guestdump(work, "dump", "sample:", "-o", "vmcore", "--force").expect(0);
        assertTrue(Files.size(work.resolve("vmcore")) > 3_000_000);
    }

    @Test
    void badUsageAndBadInputExitWith2AndNameTheValue() throws Exception {
        assertTrue(Dist.guestdump(work, "dump").expect(2).err().contains("SOURCE"));
        assertTrue(Dist.guestdump(work, "dump", "sample:", "-o", "x", "--begin", "0x1000").expect(2).err()
                .contains("--begin 0x1000 needs --length"));
        assertTrue(Dist.guestdump(work, "dump", "sample:", "-o", "x", "--begin", "0x1000", "--length", "zz").expect(2).err()
                .contains("'zz' is not an address or size"));
        assertTrue(Dist.guestdump(work, "dump", "snapshot:/nonexistent.conf", "-o", "x").expect(2).err()
                .contains("/nonexistent.conf does not exist"));
        assertTrue(Dist.guestdump(work, "dump", "sample:", "-o", "x", "--begin", "0x90000000", "--length", "1MiB").expect(2)
                .err().contains("no guest memory to dump"));
        assertTrue(Dist.guestdump(work, "frobnicate").expect(2).err().contains("frobnicate"));
        assertFalse(Files.exists(work.resolve("x")));
    }

    @Test
    void aFailedWriteExitsWith1AndLeavesNothing() throws Exception {
        // /proc refuses new files even to root
        Dist.Run r = Dist.guestdump(work, "dump", "sample:", "-o", "/proc/guestdump-test.vmcore").expect(1);
        assertTrue(r.err().contains("/proc"), r.err());
        assertFalse(r.err().contains("\tat "), "no stack trace without --verbose: " + r.err());
        Dist.Run v = Dist.guestdump(work, "dump", "sample:", "-o", "/proc/guestdump-test.vmcore", "--verbose").expect(1);
        assertTrue(v.err().contains("\tat "), "--verbose prints the stack trace: " + v.err());
    }

    @Test
    void filterWritesOnlyTheWindow() throws Exception {
        Dist.guestdump(work, "dump", "sample:", "-o", "f.vmcore", "--begin", "0x100123", "--length", "0x2345").expect(0);
        Dist.Run info = Dist.guestdump(work, "info", "f.vmcore", "--json").expect(0);
        assertTrue(info.out().contains("\"paddr\":1048867,"), info.out());
        assertTrue(info.out().contains("\"filesz\":9029,"), info.out());
        assertTrue(info.out().startsWith("{\"schema\":1,\"format\":\"elf\","), info.out());
        assertTrue(info.out().contains("\"memory-bytes\":9029"), info.out());
    }

    @Test
    void infoValidatesAndNamesTheDefect() throws Exception {
        Dist.guestdump(work, "dump", "sample:", "-o", "v").expect(0);
        byte[] file = Files.readAllBytes(work.resolve("v"));
        Files.write(work.resolve("truncated"), java.util.Arrays.copyOf(file, 1000));
        Dist.Run r = Dist.guestdump(work, "info", "truncated").expect(2);
        assertTrue(r.err().contains("runs past the end of the file"), r.err());
        Files.writeString(work.resolve("text"), "hello, not an ELF file");
        assertTrue(Dist.guestdump(work, "info", "text").expect(2).err().contains("not an ELF file"));
    }

    /**
     * The sample guest comes from a plugin (the framework names no architecture): {@code sample-guest} writes the
     * same files the distribution ships, picks the plugin by {@code guestdump.sample-arch}, and refuses a plugin
     * that offers none.
     */
    @Test
    void sampleGuestWritesThePluginsSampleTheDistributionShips() throws Exception {
        Dist.Run r = Dist.guestdump(work, "sample-guest", "--output-dir", "g").expect(0);
        assertTrue(r.out().startsWith("wrote sample guest g/sample-x86_64.conf (an x86_64 guest"), r.out());
        Path shipped = Dist.home().resolve("config/guests");
        for (String f : List.of("sample-x86_64.conf", "sample-x86_64-ram.bin", "sample-x86_64-registers.txt",
                "sample-x86_64-vmcoreinfo.txt")) {
            assertArrayEquals(Files.readAllBytes(shipped.resolve(f)), Files.readAllBytes(work.resolve("g").resolve(f)),
                    f);
        }
        Dist.guestdump(work, "sample-guest", "--output-dir", "h", "-D", "guestdump.sample-arch=x86_64").expect(0);
        Dist.Run none = Dist.guestdump(work, "sample-guest", "--output-dir", "i", "-D", "guestdump.sample-arch=s390x")
                .expect(2);
        assertTrue(none.err().contains("guestdump.sample-arch = s390x: arch-s390x") && none.err().contains(
                "offers no sample guest; these do: [x86_64]"), none.err());
        Dist.Run small = Dist.guestdump(work, "sample-guest", "--output-dir", "j", "--size", "1MiB").expect(2);
        assertTrue(small.err().contains("is smaller than the sample guest sample-x86_64"), small.err());
        assertFalse(Files.exists(work.resolve("i")) || Files.exists(work.resolve("j")));
    }

    @Test
    void archsListsEveryBundledPlugin() throws Exception {
        Dist.Run r = Dist.guestdump(work, "archs", "--json").expect(0);
        for (String id : List.of("arch-x86_64", "arch-i386", "arch-ppc64", "arch-s390x", "arch-arm",
                "arch-riscv64")) {
            assertTrue(r.out().contains("\"plugin\":\"" + id + "\""), id + " missing: " + r.out());
        }
        assertTrue(r.out().contains("\"problems\":[]"), r.out());
        assertTrue(Dist.guestdump(work, "--version").expect(0).out().contains("guestdump 0.1.0"));
    }

    @Test
    void versionAloneIsAnsweredWithoutPicocliAndPrintsWhatPicocliPrints() throws Exception {
        Path log = work.resolve("classes.log");
        Dist.Run fast = Dist.run(work, Map.of("JAVA_OPTS", "-Xlog:class+load:file=" + log),
                List.of(Dist.launcher().toString(), "--version")).expect(0);
        assertFalse(Files.readString(log).contains("picocli."), "the fast path loads no picocli class");
        // with --verbose first, picocli parses the line and its version provider answers
        Dist.Run picocli = Dist.guestdump(work, "--verbose", "--version").expect(0);
        assertEquals(picocli.out(), fast.out());
        assertEquals(picocli.out(), Dist.guestdump(work, "-V").expect(0).out());
        assertEquals("guestdump 0.1.0\n", fast.out());
        assertEquals("", fast.err());
    }
}
