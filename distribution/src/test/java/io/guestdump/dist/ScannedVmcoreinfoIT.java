package io.guestdump.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A VMCOREINFO the framework finds by searching guest memory reaches every output, the kdump header included:
 * the x86_64 sample guest without its {@code vmcoreinfo-from} file carries the kernel's note at 0x300000 with
 * {@code NUMBER(phys_base)=-14680064} (decimal, negative, as Linux prints it). Before the redesign the kdump header
 * read the source's VMCOREINFO only, so it had an empty release and {@code phys_base} 0 for such a guest.
 */
class ScannedVmcoreinfoIT {
    @TempDir
    Path work;

    /** diskdump.h: {@code struct new_utsname} after the 8-byte signature and the int header_version. */
    static final int UTS_RELEASE = 12 + 2 * 65;
    static final int UTS_MACHINE = 12 + 4 * 65;
    /** kdump_sub_header starts one block (4096 on x86) into the file; phys_base is its first field. */
    static final int SUB_HEADER = 4096;

    Path scannedSample() throws Exception {
        Dist.guestdump(work, "sample-guest", "--output-dir", work.resolve("g").toString()).expect(0);
        Path conf = work.resolve("g/sample-x86_64.conf");
        String text = Files.readString(conf);
        assertTrue(text.contains("vmcoreinfo-from"), text);
        Files.writeString(conf, text.replaceAll("(?m)^\\s*vmcoreinfo-from.*$", ""));
        return conf;
    }

    @Test
    void theKdumpHeaderGetsReleaseAndNegativePhysBaseFromTheScannedVmcoreinfo() throws Exception {
        Path conf = scannedSample();
        Path out = work.resolve("vmcore.kdump");
        Dist.Run r = Dist.guestdump(work, "dump", "snapshot:" + conf, "--format", "kdump-zlib",
                "-o", out.toString()).expect(0);
        assertTrue(r.out().contains("found by search"), r.out());
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(out)).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals("KDUMP   ", cString(b, 0, 8));
        assertEquals("x86_64", cString(b, UTS_MACHINE, 65));
        assertEquals("6.1.0-guestdump-sample", cString(b, UTS_RELEASE, 65), "utsname.release");
        assertEquals(-14680064L, b.getLong(SUB_HEADER), "phys_base = 2 MiB - 16 MiB, decimal in VMCOREINFO");
    }

    @Test
    void withTheSearchOffTheHeaderHasNoRelease() throws Exception {
        Path conf = scannedSample();
        Path out = work.resolve("vmcore.kdump");
        Dist.guestdump(work, "dump", "snapshot:" + conf, "--format", "kdump-zlib", "-o",
                out.toString(), "-D", "guestdump.notes.vmcoreinfo-scan=false").expect(0);
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(out)).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals("", cString(b, UTS_RELEASE, 65));
        assertEquals(0L, b.getLong(SUB_HEADER));
    }

    static String cString(ByteBuffer b, int at, int max) {
        int end = at;
        while (end < at + max && b.get(end) != 0) {
            end++;
        }
        byte[] s = new byte[end - at];
        b.get(at, s);
        return new String(s, StandardCharsets.US_ASCII);
    }
}
