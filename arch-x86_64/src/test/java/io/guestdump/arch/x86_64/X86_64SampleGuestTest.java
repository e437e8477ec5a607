package io.guestdump.arch.x86_64;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.guestdump.arch.api.SampleGuest;
import io.guestdump.arch.api.VmcoreinfoScanner;
import io.guestdump.core.sample.SampleGuestWriter;
import io.guestdump.memory.ByteArrayData;
import io.guestdump.memory.GuestBlock;
import io.guestdump.memory.GuestMemory;
import io.guestdump.memory.PhysRange;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The sample guest this plugin offers: deterministic, and the committed config/guests files are the generator's. */
class X86_64SampleGuestTest {
    private static final SampleGuest SAMPLE = new X86_64SampleGuest();

    @TempDir
    Path dir;

    private Path write(Path to) throws IOException {
        return SampleGuestWriter.write(SAMPLE, to, X86_64SampleGuest.DEFAULT_END);
    }

    @Test
    void theArchitectureOffersIt() {
        SampleGuest offered = X86_64GoldenNotesTest.defaultArch().sampleGuest().orElseThrow();
        assertEquals(X86_64SampleGuest.NAME, offered.name());
        assertEquals(X86_64SampleGuest.DEFAULT_END, offered.defaultSize());
    }

    @Test
    void theCommittedSnapshotTextFilesAreWhatTheGeneratorWrites() throws IOException {
        write(dir);
        Path committed = Path.of("../config/guests").toAbsolutePath().normalize();
        for (String f : List.of("sample-x86_64.conf", "sample-x86_64-registers.txt", "sample-x86_64-vmcoreinfo.txt")) {
            assertEquals(Files.readString(dir.resolve(f)), Files.readString(committed.resolve(f)),
                    f + " in config/guests differs from the generator: run `guestdump sample-guest --output-dir "
                            + "config/guests` and commit the text files (not the RAM file)");
        }
    }

    @Test
    void theSameArgumentsGiveTheSameBytes() throws IOException {
        Path a = write(dir.resolve("a")).getParent();
        Path b = write(dir.resolve("b")).getParent();
        assertTrue(Arrays.equals(Files.readAllBytes(a.resolve("sample-x86_64-ram.bin")),
                Files.readAllBytes(b.resolve("sample-x86_64-ram.bin"))));
    }

    /**
     * The RAM file's SHA-256 as the generator wrote it when it lived in the framework (io.guestdump.core.sample,
     * before issue 10 moved it here): moving it changed no byte, so no dump of the sample changed either.
     */
    @Test
    void theRamFileIsByteForByteWhatTheFrameworksGeneratorWrote() throws Exception {
        assertEquals("1b47fa95ffb093eda58554e3a765d87a9bf4964b42324276915b73bdcc45318a",
                ramSha256(X86_64SampleGuest.DEFAULT_END));
        assertEquals("3fbbc49d90ce94f213d37ed01f7ccf118a35b76f96acdcc32c834071305325cd", ramSha256(0x801000));
    }

    private static String ramSha256(long end) throws Exception {
        SampleGuest.SampleFile ram = SAMPLE.files(end).get(0);
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        ByteBuffer piece = ByteBuffer.allocate(1 << 20);
        for (long at = 0; at < ram.length(); at += piece.limit()) {
            piece.clear().limit((int) Math.min(piece.capacity(), ram.length() - at));
            ram.content().read(at, piece);
            sha.update(piece.flip());
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    @Test
    void theRamFileDoesNotDependOnHowItIsRead() throws IOException {
        byte[] whole = Files.readAllBytes(write(dir).getParent().resolve("sample-x86_64-ram.bin"));
        SampleGuest.SampleFile ram = SAMPLE.files(X86_64SampleGuest.DEFAULT_END).get(0);
        assertEquals(whole.length, ram.length());
        ByteBuffer odd = ByteBuffer.allocate(whole.length);
        for (int at = 0; at < whole.length; ) {
            int n = Math.min(4093, whole.length - at); // pieces that cut pages, the UTS and the VMCOREINFO note
            ram.content().read(at, odd.slice(at, n));
            at += n;
        }
        assertTrue(Arrays.equals(whole, odd.array()));
    }

    @Test
    void aSizeBelowTheDefaultOrNotWholePagesIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> SAMPLE.files(X86_64SampleGuest.DEFAULT_END - 4096));
        assertThrows(IllegalArgumentException.class, () -> SampleGuestWriter.write(SAMPLE, dir,
                X86_64SampleGuest.DEFAULT_END + 1));
    }

    @Test
    void pageTablesMapKernelTextAndRipHoldsTheRetAfterHlt() throws IOException {
        byte[] ram = Files.readAllBytes(write(dir).getParent().resolve("sample-x86_64-ram.bin"));
        ByteBuffer b = ByteBuffer.wrap(ram).order(ByteOrder.LITTLE_ENDIAN);
        long pml4e = b.getLong((int) (X86_64SampleGuest.CR3 + 511 * 8));
        long pdpte = b.getLong((int) ((pml4e & ~0xfffL) + 510 * 8));
        long pde = b.getLong((int) ((pdpte & ~0xfffL) + 8 * 8));
        long pte = b.getLong((int) ((pde & ~0xfffL) + 1 * 8)); // 0xffffffff81001000
        assertEquals(X86_64SampleGuest.KERNEL_TEXT_PA + 0x1000, pte & 0x000f_ffff_ffff_f000L);
        long fileOffset = X86_64SampleGuest.LOW_END
                + (X86_64SampleGuest.KERNEL_TEXT_PA + 0x1000 - X86_64SampleGuest.HIGH_START);
        assertEquals((byte) 0xf4, ram[(int) fileOffset + 1], "hlt");
        assertEquals((byte) 0xc3, ram[(int) fileOffset + 2], "ret at RIP");
        assertEquals(X86_64SampleGuest.KERNEL_TEXT_VA + 0x1002, X86_64SampleGuest.RIP);
        assertEquals(0xffffffff80e01000L, X86_64SampleGuest.kernelImageAddress(X86_64SampleGuest.CR3));
    }

    @Test
    void theVmcoreinfoScanFindsTheNoteAt0x300000() throws IOException {
        byte[] ram = Files.readAllBytes(write(dir).getParent().resolve("sample-x86_64-ram.bin"));
        long low = X86_64SampleGuest.LOW_END;
        long high = X86_64SampleGuest.DEFAULT_END - X86_64SampleGuest.HIGH_START;
        GuestMemory m = new GuestMemory(List.of(
                new GuestBlock(new PhysRange(0, low), new ByteArrayData(Arrays.copyOf(ram, (int) low)), "low"),
                new GuestBlock(PhysRange.ofLength(X86_64SampleGuest.HIGH_START, high),
                        new ByteArrayData(Arrays.copyOfRange(ram, (int) low, (int) (low + high))), "high")));
        VmcoreinfoScanner.Found f = VmcoreinfoScanner.find(m).orElseThrow();
        assertEquals(0x300000, f.address());
        assertEquals(ByteOrder.LITTLE_ENDIAN, f.order());
        assertEquals(X86_64SampleGuest.vmcoreinfo(), f.text());
        assertEquals("guest memory at 0x300000 (found by search)", f.origin());
    }
}
