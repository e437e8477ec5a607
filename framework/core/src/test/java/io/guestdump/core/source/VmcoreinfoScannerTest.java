package io.guestdump.core.source;

import io.guestdump.arch.api.VmcoreinfoScanner;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.guestdump.memory.ByteArrayData;
import io.guestdump.memory.GuestBlock;
import io.guestdump.memory.GuestMemory;
import io.guestdump.memory.PhysRange;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Finding the kernel's VMCOREINFO note in guest memory. */
class VmcoreinfoScannerTest {
    private static final String TEXT = "OSRELEASE=6.1.0-test\nPAGESIZE=4096\nSYMBOL(init_uts_ns)=ffffffff82a13360\n";

    /** A note with {@code n_namesz}, {@code n_descsz}, {@code n_type} in {@code order}, then name and text. */
    static byte[] note(ByteOrder order, int type, String text) {
        byte[] desc = text.getBytes(StandardCharsets.ISO_8859_1);
        ByteBuffer b = ByteBuffer.allocate(24 + desc.length).order(order);
        b.putInt(11).putInt(desc.length).putInt(type).put("VMCOREINFO\0\0".getBytes(StandardCharsets.US_ASCII))
                .put(desc);
        return b.array();
    }

    private static GuestMemory memoryWith(long blockStart, int blockSize, long noteAddress, byte[] note) {
        byte[] bytes = new byte[blockSize];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) (i * 7);
        }
        System.arraycopy(note, 0, bytes, (int) (noteAddress - blockStart), note.length);
        return new GuestMemory(List.of(new GuestBlock(PhysRange.ofLength(blockStart, blockSize),
                new ByteArrayData(bytes), "test")));
    }

    @Test
    void findsABigEndianGuestsNote() throws IOException {
        GuestMemory m = memoryWith(0x10000, 0x10000, 0x17000, note(ByteOrder.BIG_ENDIAN, 0, TEXT));
        VmcoreinfoScanner.Found f = VmcoreinfoScanner.find(m).orElseThrow();
        assertEquals(0x17000, f.address());
        assertEquals(ByteOrder.BIG_ENDIAN, f.order());
        assertEquals(TEXT, f.text());
    }

    @Test
    void findsANoteWhoseTextCrossesAReadChunk() throws IOException {
        String longText = TEXT + "X=" + "y".repeat(6000) + "\n";
        long at = VmcoreinfoScanner.CHUNK_BYTES - 4096;
        GuestMemory m = memoryWith(0, VmcoreinfoScanner.CHUNK_BYTES + 0x4000, at,
                note(ByteOrder.LITTLE_ENDIAN, 0, longText));
        assertEquals(longText, VmcoreinfoScanner.find(m).orElseThrow().text());
    }

    @Test
    void pagesAreCountedInPhysicalAddressesNotBlockOffsets() throws IOException {
        // the block starts mid-page; the note is on a physical page boundary
        GuestMemory m = memoryWith(0x10800, 0x4000, 0x12000, note(ByteOrder.LITTLE_ENDIAN, 0, TEXT));
        assertEquals(0x12000, VmcoreinfoScanner.find(m).orElseThrow().address());
    }

    @Test
    void lookalikesAreNotTaken() throws IOException {
        assertEquals(Optional.empty(), VmcoreinfoScanner.find(memoryWith(0, 0x8000, 0x2010,
                note(ByteOrder.LITTLE_ENDIAN, 0, TEXT))), "not at a page start");
        assertEquals(Optional.empty(), VmcoreinfoScanner.find(memoryWith(0, 0x8000, 0x2000,
                note(ByteOrder.LITTLE_ENDIAN, 1, TEXT))), "n_type 1");
        assertEquals(Optional.empty(), VmcoreinfoScanner.find(memoryWith(0, 0x8000, 0x2000,
                note(ByteOrder.LITTLE_ENDIAN, 0, "BUILD-ID=1\n" + TEXT))), "does not start OSRELEASE=");
        assertEquals(Optional.empty(), VmcoreinfoScanner.find(memoryWith(0, 0x8000, 0x2000,
                note(ByteOrder.LITTLE_ENDIAN, 0, TEXT + "\u00ff=1\n"))), "not printable");
        byte[] huge = note(ByteOrder.LITTLE_ENDIAN, 0, TEXT);
        ByteBuffer.wrap(huge).order(ByteOrder.LITTLE_ENDIAN).putInt(4, VmcoreinfoScanner.MAX_DESC_BYTES + 1);
        assertEquals(Optional.empty(), VmcoreinfoScanner.find(memoryWith(0, 0x20000, 0x2000, huge)), "too long");
        byte[] beyond = note(ByteOrder.LITTLE_ENDIAN, 0, TEXT);
        ByteBuffer.wrap(beyond).order(ByteOrder.LITTLE_ENDIAN).putInt(4, 0x3000);
        assertEquals(Optional.empty(), VmcoreinfoScanner.find(memoryWith(0, 0x4000, 0x2000, beyond)),
                "runs past the memory");
    }

    @Test
    void theFirstRealNoteWinsOverEarlierLookalikes() throws IOException {
        byte[] bytes = new byte[0x10000];
        System.arraycopy(note(ByteOrder.LITTLE_ENDIAN, 0, "OSRELEASE=broken\u0001\n"), 0, bytes, 0x1000, 40);
        byte[] good = note(ByteOrder.LITTLE_ENDIAN, 0, TEXT);
        System.arraycopy(good, 0, bytes, 0x5000, good.length);
        GuestMemory m = new GuestMemory(List.of(new GuestBlock(new PhysRange(0, 0x10000), new ByteArrayData(bytes),
                "t")));
        assertEquals(0x5000, VmcoreinfoScanner.find(m).orElseThrow().address());
    }

    @Test
    void textChecks() {
        assertTrue(VmcoreinfoScanner.isVmcoreinfoText("OSRELEASE=6.1\n".getBytes(StandardCharsets.US_ASCII)));
        assertTrue(VmcoreinfoScanner.isVmcoreinfoText("OSRELEASE=6.1\nA=b".getBytes(StandardCharsets.US_ASCII)));
        assertFalse(VmcoreinfoScanner.isVmcoreinfoText("OSRELEASE=6.1\n\n".getBytes(StandardCharsets.US_ASCII)));
        assertFalse(VmcoreinfoScanner.isVmcoreinfoText("OSRELEASE=6.1\n=x\n".getBytes(StandardCharsets.US_ASCII)));
        assertFalse(VmcoreinfoScanner.isVmcoreinfoText("OSRELEASE=6.1\nnoequals\n"
                .getBytes(StandardCharsets.US_ASCII)));
        assertFalse(VmcoreinfoScanner.isVmcoreinfoText("OSRELEASE=6.1\0\n".getBytes(StandardCharsets.US_ASCII)));
    }
}
