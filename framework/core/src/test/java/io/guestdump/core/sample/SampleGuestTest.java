package io.guestdump.core.sample;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The bundled sample guest: deterministic, and the committed config/guests files are the generator's. */
class SampleGuestTest {
    @TempDir
    Path dir;

    @Test
    void theCommittedSnapshotTextFilesAreWhatTheGeneratorWrites() throws IOException {
        SampleGuest.write(dir);
        Path committed = Path.of("../../config/guests").toAbsolutePath().normalize();
        for (String f : List.of("sample-x86_64.conf", "sample-x86_64-registers.txt", "sample-x86_64-vmcoreinfo.txt")) {
            assertEquals(Files.readString(dir.resolve(f)), Files.readString(committed.resolve(f)),
                    f + " in config/guests differs from the generator: run `guestdump sample-guest --output-dir "
                            + "config/guests` and commit the text files (not the RAM file)");
        }
    }

    @Test
    void theSameArgumentsGiveTheSameBytes() throws IOException {
        Path a = SampleGuest.write(dir.resolve("a")).getParent();
        Path b = SampleGuest.write(dir.resolve("b")).getParent();
        assertTrue(Arrays.equals(Files.readAllBytes(a.resolve("sample-x86_64-ram.bin")),
                Files.readAllBytes(b.resolve("sample-x86_64-ram.bin"))));
    }

    @Test
    void pageTablesMapKernelTextAndRipHoldsTheRetAfterHlt() throws IOException {
        byte[] ram = Files.readAllBytes(SampleGuest.write(dir).getParent().resolve("sample-x86_64-ram.bin"));
        ByteBuffer b = ByteBuffer.wrap(ram).order(ByteOrder.LITTLE_ENDIAN);
        long pml4e = b.getLong((int) (SampleGuest.CR3 + 511 * 8));
        long pdpte = b.getLong((int) ((pml4e & ~0xfffL) + 510 * 8));
        long pde = b.getLong((int) ((pdpte & ~0xfffL) + 8 * 8));
        long pte = b.getLong((int) ((pde & ~0xfffL) + 1 * 8)); // 0xffffffff81001000
        assertEquals(SampleGuest.KERNEL_TEXT_PA + 0x1000, pte & 0x000f_ffff_ffff_f000L);
        long fileOffset = SampleGuest.LOW_END + (SampleGuest.KERNEL_TEXT_PA + 0x1000 - SampleGuest.HIGH_START);
        assertEquals((byte) 0xf4, ram[(int) fileOffset + 1], "hlt");
        assertEquals((byte) 0xc3, ram[(int) fileOffset + 2], "ret at RIP");
        assertEquals(SampleGuest.KERNEL_TEXT_VA + 0x1002, SampleGuest.RIP);
        assertEquals(0xffffffff80e01000L, SampleGuest.kernelImageAddress(SampleGuest.CR3));
    }
}
