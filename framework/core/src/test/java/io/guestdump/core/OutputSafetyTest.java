package io.guestdump.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.arch.api.VmcoreWriteException;
import io.guestdump.core.plugins.ArchitectureRegistry;
import io.guestdump.core.vmcore.OutputTarget;
import io.guestdump.core.vmcore.ProgressListener;
import java.io.IOException;
import java.io.InputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issues 13 and 15: the output never destroys what is not ours (devices, FIFOs, files that appear meanwhile). */
class OutputSafetyTest {
    private static final int S_IFMT = 0170000;
    private static final int S_IFCHR = 0020000;
    private static final int S_IFIFO = 0010000;
    private static final int S_IFSOCK = 0140000;

    @TempDir
    Path dir;

    ArchitectureRegistry registry;
    GuestDump dump;
    Path snap;

    @BeforeEach
    void setUp() throws IOException {
        registry = TestGuests.registry();
        dump = new GuestDump(TestGuests.settings(dir, Map.of()), registry);
        snap = TestGuests.snapshot(dir, "toy64", List.of(new TestGuests.Block(0x1000, 64 << 10)), 1);
    }

    @AfterEach
    void tearDown() {
        registry.close();
    }

    private DumpResult dump(String out, boolean force, String format, boolean flattened) {
        return dump.dump(new DumpRequest(Optional.of("snapshot:" + snap), out, Optional.empty(), Optional.empty(),
                force, false, format, flattened), ProgressListener.NONE);
    }

    private static int type(Path p) throws IOException {
        return (Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS) & S_IFMT;
    }

    @Test
    void devFullStaysACharacterDeviceAndItsEnospcIsAWriteErrorWithTheErrnoText() throws IOException {
        Path full = Path.of("/dev/full");
        assumeTrue(Files.exists(full), "no /dev/full on this machine");
        VmcoreWriteException e = assertThrows(VmcoreWriteException.class, () -> dump("/dev/full", true, "elf", false));
        assertTrue(e.getMessage().contains("/dev/full") && e.getMessage().contains("No space left on device"),
                e.getMessage());
        assertEquals(S_IFCHR, type(full), "/dev/full is still a character device");
        assertTrue(Files.list(Path.of("/dev")).noneMatch(p -> p.getFileName().toString().endsWith(".partial")));
    }

    @Test
    void devNullTakesTheDumpInPlaceWithoutForceAndKdumpThereNeedsTheFlattenedForm() throws IOException {
        DumpResult r = dump("/dev/null", false, "elf", false);
        assertTrue(r.fileSize() > 64 << 10);
        assertEquals(S_IFCHR, type(Path.of("/dev/null")));
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> dump("/dev/null", true, "kdump-zlib", false));
        assertTrue(e.getMessage().contains("--flattened"), e.getMessage());
        dump("/dev/null", true, "kdump-zlib", true);
        assertEquals(S_IFCHR, type(Path.of("/dev/null")));
    }

    @Test
    void aFifoIsStreamedIntoNotReplacedAndGetsTheSameBytesAsAFile() throws Exception {
        Path fifo = dir.resolve("pipe");
        Process mk = new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start();
        assumeTrue(mk.waitFor() == 0, "mkfifo failed");
        CompletableFuture<byte[]> read = CompletableFuture.supplyAsync(() -> {
            try (InputStream in = Files.newInputStream(fifo)) {
                return in.readAllBytes();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        dump(fifo.toString(), false, "elf", false);
        byte[] streamed = read.get();
        assertEquals(S_IFIFO, type(fifo), "still a FIFO");
        dump(dir.resolve("file.vmcore").toString(), false, "elf", false);
        assertArrayEquals(Files.readAllBytes(dir.resolve("file.vmcore")), streamed);
    }

    @Test
    void aSocketIsRefusedAndLeftAlone() throws IOException {
        Path sock = dir.resolve("s.sock");
        try (ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            s.bind(UnixDomainSocketAddress.of(sock));
            InvalidInputException e = assertThrows(InvalidInputException.class,
                    () -> dump(sock.toString(), true, "elf", false));
            assertTrue(e.getMessage().contains("is a socket"), e.getMessage());
            assertEquals(S_IFSOCK, type(sock));
        }
    }

    @Test
    void aTerminalDeviceIsRefused() {
        assumeTrue(Files.exists(Path.of("/dev/tty")), "no /dev/tty on this machine");
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> OutputTarget.open("/dev/tty", true, false));
        assertTrue(e.getMessage().contains("is a terminal"), e.getMessage());
    }

    @Test
    void aFileThatAppearsWhileDumpingIsKeptWithoutForce() throws IOException {
        Path out = dir.resolve("vmcore");
        try (OutputTarget t = OutputTarget.open(out.toString(), false, false)) {
            t.channel().write(ByteBuffer.wrap(new byte[] {1, 2, 3}));
            Files.writeString(out, "someone else's file");
            VmcoreWriteException e = assertThrows(VmcoreWriteException.class, t::commit);
            assertTrue(e.getMessage().contains("appeared while dumping") && e.getMessage().contains("--force"),
                    e.getMessage());
        }
        assertEquals("someone else's file", Files.readString(out));
        assertNoPartialFiles();
    }

    @Test
    void withoutForceTheVmcoreIsHardLinkedIntoPlaceWhereLinksWork() throws IOException {
        // the race-free commit (link(2) fails if the target exists) is the one taken on a file system with links;
        // the checked rename is only for file systems without them (docs/output.md)
        Path out = dir.resolve("vmcore");
        Path temp;
        try (OutputTarget t = OutputTarget.open(out.toString(), false, false)) {
            temp = t.temporaryPath().orElseThrow();
            t.channel().write(ByteBuffer.wrap(new byte[] {1, 2, 3}));
            Object inode = Files.getAttribute(temp, "unix:ino");
            t.commit();
            assertEquals(OutputTarget.Commit.LINK, t.committedBy().orElseThrow());
            assertEquals(inode, Files.getAttribute(out, "unix:ino"), "the written file itself, linked");
            assertEquals(1, Files.getAttribute(out, "unix:nlink"), "the temporary name is gone");
        }
        assertFalse(Files.exists(temp));
        try (OutputTarget t = OutputTarget.open(out.toString(), true, false)) {
            t.channel().write(ByteBuffer.wrap(new byte[] {4}));
            t.commit();
            assertEquals(OutputTarget.Commit.RENAME_REPLACING, t.committedBy().orElseThrow());
        }
        assertArrayEquals(new byte[] {4}, Files.readAllBytes(out));
        assertNoPartialFiles();
    }

    @Test
    void twoConcurrentDumpsToOneTargetOneWinsTheOtherFailsClearly() throws IOException {
        Path out = dir.resolve("vmcore");
        try (OutputTarget a = OutputTarget.open(out.toString(), false, false);
                OutputTarget b = OutputTarget.open(out.toString(), false, false)) {
            a.channel().write(ByteBuffer.wrap("first".getBytes()));
            b.channel().write(ByteBuffer.wrap("second".getBytes()));
            a.commit();
            assertThrows(VmcoreWriteException.class, b::commit);
        }
        assertEquals("first", Files.readString(out));
        assertNoPartialFiles();
    }

    @Test
    void withForceARegularFileIsReplacedAndTheModeIs0600() throws IOException {
        Path out = Files.writeString(dir.resolve("vmcore"), "old");
        Files.setPosixFilePermissions(out, PosixFilePermissions.fromString("rw-r--r--"));
        dump(out.toString(), true, "elf", false);
        assertTrue(Files.size(out) > 64 << 10);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(out)));
        assertNoPartialFiles();
    }

    @Test
    void targetNamesUpToNameMaxWork() throws IOException {
        for (int len : new int[] {240, 250, 255}) {
            Path out = dir.resolve("v".repeat(len));
            dump(out.toString(), false, "elf", false);
            assertTrue(Files.size(out) > 64 << 10, "name of " + len + " bytes");
        }
        // 85 three-byte characters: 255 bytes of UTF-8
        Path out = dir.resolve("\u20ac".repeat(85));
        dump(out.toString(), false, "elf", false);
        assertTrue(Files.isRegularFile(out));
        assertNoPartialFiles();
    }

    @Test
    void noSourceIsRefusedAndSampleNamesTheBundledGuest() {
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> dump.dump(new DumpRequest(
                Optional.empty(), dir.resolve("v").toString(), Optional.empty(), Optional.empty(), false),
                ProgressListener.NONE));
        assertTrue(e.getMessage().contains("sample:"), e.getMessage());
        assertFalse(Files.exists(dir.resolve("v")));
    }

    private void assertNoPartialFiles() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            List<Path> partial = s.filter(p -> p.getFileName().toString().endsWith(".partial")).toList();
            assertTrue(partial.isEmpty(), "left behind: " + partial);
        }
    }
}
