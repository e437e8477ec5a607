package io.guestdump.core.source;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.airlift.compress.bzip2.BZip2HadoopStreams;
import io.airlift.compress.lzo.LzopHadoopStreams;
import io.airlift.compress.zstd.ZstdOutputStream;
import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.core.source.LibvirtSaveImage.SaveFormat;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tukaani.xz.LZMA2Options;
import org.tukaani.xz.XZOutputStream;

/**
 * libvirt save images ({@link LibvirtSaveImage}) built as libvirt 9.0 writes them: the header in either byte order,
 * the domain XML with a cookie and libvirt's 64 KiB of padding, then QEMU's stream raw or compressed by the very
 * commands libvirt runs ({@code gzip -c}, {@code bzip2 -c}, {@code xz -c}, {@code lzop -c}, {@code zstd -c}; when
 * installed, required with GUESTDUMP_REQUIRE_TOOLS=1) and by in-JVM encoders of the same formats. Every page and
 * register must read back; truncated and corrupt images are refused naming the format.
 */
class LibvirtSaveImageTest {
    static final String XML = "<domain type='qemu'>\n  <name>toy-guest</name>\n"
            + "  <uuid>6f1c2f52-0d0e-4b8e-9a55-2b5d3c1e0a77</uuid>\n  <memory unit='KiB'>64</memory>\n"
            + "  <vcpu placement='static'>2</vcpu>\n  <os>\n    <type arch='x86_64' machine='toy-1.0'>hvm</type>\n"
            + "  </os>\n</domain>\n";
    static final String COOKIE = "<cookie><cpu mode='custom'/></cookie>\n";

    @TempDir
    Path dir;

    /** A libvirt image: header (in {@code order}), XML, cookie, 64 KiB padding, then {@code payload}. */
    static byte[] image(ByteOrder order, SaveFormat format, String xml, byte[] payload) {
        return image(order, format, xml, payload, 64 * 1024);
    }

    /** As {@link #image(ByteOrder, SaveFormat, String, byte[])} with {@code padding} zeros after the cookie. */
    static byte[] image(ByteOrder order, SaveFormat format, String xml, byte[] payload, int padding) {
        byte[] x = (xml + "\0").getBytes(StandardCharsets.UTF_8);
        byte[] c = (COOKIE + "\0").getBytes(StandardCharsets.UTF_8);
        int dataLen = x.length + c.length + padding;
        ByteBuffer h = ByteBuffer.allocate(LibvirtSaveImage.HEADER_SIZE).order(order);
        h.put(LibvirtSaveImage.QEMU_SAVE_MAGIC.getBytes(StandardCharsets.ISO_8859_1)).putInt(2).putInt(dataLen)
                .putInt(1).putInt(format.wire()).putInt(x.length);
        ByteArrayOutputStream f = new ByteArrayOutputStream();
        f.writeBytes(h.array());
        f.writeBytes(x);
        f.writeBytes(c);
        f.writeBytes(new byte[padding]);
        f.writeBytes(payload);
        return f.toByteArray();
    }

    /** {@code stream} compressed in the JVM into {@code format}. */
    static byte[] compressInJvm(SaveFormat format, byte[] stream) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (OutputStream o = switch (format) {
            case RAW -> b;
            case GZIP -> new GZIPOutputStream(b);
            case BZIP2 -> new BZip2HadoopStreams().createOutputStream(b);
            case XZ -> new XZOutputStream(b, new LZMA2Options(1));
            case LZOP -> new LzopHadoopStreams().createOutputStream(b);
            case ZSTD -> new ZstdOutputStream(b);
            default -> throw new IllegalArgumentException(format.toString());
        }) {
            o.write(stream);
        }
        return b.toByteArray();
    }

    /** {@code stream} compressed by {@code format.program() -c}, as libvirt runs it; null when not installed. */
    byte[] compressWithProgram(SaveFormat format, byte[] stream) throws IOException, InterruptedException {
        if (!onPath(format.program())) {
            if ("1".equals(System.getenv("GUESTDUMP_REQUIRE_TOOLS"))) {
                fail("GUESTDUMP_REQUIRE_TOOLS=1 but " + format.program() + " is not on PATH (Debian package "
                        + format.debianPackage() + ")");
            }
            return null;
        }
        Path in = dir.resolve("plain.mig");
        Path out = dir.resolve("packed." + format.program());
        Files.write(in, stream);
        Process p = new ProcessBuilder(format.program(), "-c").redirectInput(in.toFile()).redirectOutput(out.toFile())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), format.program() + " -c did not finish");
        assertEquals(0, p.exitValue(), format.program() + " -c");
        return Files.readAllBytes(out);
    }

    private LoadedGuest open(byte[] bytes) throws IOException {
        Path p = dir.resolve("domain.save");
        Files.write(p, bytes);
        return new SaveStateSource(p, dir).open(List.of(TestMigration.TOY));
    }

    private String refusal(byte[] bytes) throws IOException {
        try (LoadedGuest g = open(bytes)) {
            fail("opened");
            return "";
        } catch (InvalidInputException e) {
            return e.getMessage();
        }
    }

    private void assertTypical(TestMigration m, LoadedGuest g, SaveFormat format) throws IOException {
        byte[] ram = new byte[(int) TestMigration.RAM_SIZE];
        g.state().memory().read(TestMigration.RAM_BASE, ByteBuffer.wrap(ram));
        assertArrayEquals(m.ram, ram, format + ": RAM");
        byte[] rom = new byte[(int) TestMigration.ROM_SIZE];
        g.state().memory().read(TestMigration.ROM_BASE, ByteBuffer.wrap(rom));
        assertArrayEquals(m.rom, rom, format + ": ROM");
        assertEquals(0xffff0000_00002000L, g.state().cpus().get(1).u64("pc"), format + ": registers");
        assertEquals("toy-guest", g.state().properties().get("libvirt-domain"));
        assertEquals("6f1c2f52-0d0e-4b8e-9a55-2b5d3c1e0a77", g.state().properties().get("libvirt-uuid"));
        assertEquals(format.program(), g.state().properties().get("libvirt-save-format"));
        assertEquals("true", g.state().properties().get("libvirt-was-running"));
        assertEquals(Long.toString(64 * 1024), g.state().properties().get("libvirt-memory"));
    }

    @Test
    void everyFormatLibvirtWritesReadsBackEveryPageAndRegister() throws Exception {
        TestMigration m = TestMigration.typical();
        byte[] stream = m.finish();
        List<String> byProgram = new ArrayList<>();
        for (SaveFormat f : List.of(SaveFormat.RAW, SaveFormat.GZIP, SaveFormat.BZIP2, SaveFormat.XZ, SaveFormat.LZOP,
                SaveFormat.ZSTD)) {
            for (ByteOrder order : List.of(ByteOrder.LITTLE_ENDIAN, ByteOrder.BIG_ENDIAN)) {
                try (LoadedGuest g = open(image(order, f, XML, compressInJvm(f, stream)))) {
                    assertTypical(m, g, f);
                }
            }
            if (f != SaveFormat.RAW) {
                byte[] packed = compressWithProgram(f, stream);
                if (packed != null) {
                    try (LoadedGuest g = open(image(ByteOrder.LITTLE_ENDIAN, f, XML, packed))) {
                        assertTypical(m, g, f);
                    }
                    byProgram.add(f.program());
                }
            }
        }
        System.err.println("LibvirtSaveImageTest: formats also read from their programs' output: " + byProgram);
        try (var files = Files.list(dir)) {
            assertTrue(files.noneMatch(p -> p.getFileName().toString().startsWith("guestdump-savestate-")),
                    "the spool directory is gone once the spool is open");
        }
    }

    @Test
    void domainXmlIsReadForWhatItTells() {
        LibvirtSaveImage.DomainInfo d = LibvirtSaveImage.domain(XML.replace("<memory unit='KiB'>64</memory>",
                "<memory unit='GiB'>2</memory>"), dir);
        assertEquals("toy-guest", d.name());
        assertEquals("x86_64", d.arch());
        assertEquals("toy-1.0", d.machine());
        assertEquals(2L << 30, d.memoryBytes());
        assertEquals(2, d.vcpus());
        assertEquals(512L << 10, LibvirtSaveImage.domain("<domain><memory>512</memory></domain>", dir).memoryBytes(),
                "KiB without a unit");
        assertThrows(InvalidInputException.class, () -> LibvirtSaveImage.domain("<network/>", dir));
        assertThrows(InvalidInputException.class, () -> LibvirtSaveImage.domain("<domain><name>x</domain>", dir));
        String xxe = "<!DOCTYPE domain [<!ENTITY x SYSTEM 'file:///etc/passwd'>]><domain><name>&x;</name></domain>";
        assertThrows(InvalidInputException.class, () -> LibvirtSaveImage.domain(xxe, dir), "no DTDs, no entities");
    }

    @Test
    void theDomainXmlNamesTheMachineWhenTheStreamDoesNot() throws IOException {
        TestMigration m = TestMigration.typicalWithoutConfiguration();
        byte[] stream = m.finish();
        try (LoadedGuest g = open(image(ByteOrder.LITTLE_ENDIAN, SaveFormat.RAW, XML, stream))) {
            assertTypical(m, g, SaveFormat.RAW);
            assertEquals("toy-1.0", g.state().properties().get("machine-type"));
            assertTrue(g.state().properties().get("machine-type-from").contains("domain XML"));
        }
        String noMachine = XML.replace(" machine='toy-1.0'", "");
        String why = refusal(image(ByteOrder.LITTLE_ENDIAN, SaveFormat.RAW, noMachine, stream));
        assertTrue(why.contains("nor does the libvirt domain XML"), why);
    }

    @Test
    void truncatedAndCorruptCompressedImagesAreRefusedNamingTheFormat() throws Exception {
        byte[] stream = TestMigration.typical().finish();
        for (SaveFormat f : List.of(SaveFormat.GZIP, SaveFormat.BZIP2, SaveFormat.XZ, SaveFormat.LZOP,
                SaveFormat.ZSTD)) {
            byte[] packed = compressInJvm(f, stream);
            byte[] whole = image(ByteOrder.LITTLE_ENDIAN, f, XML, packed);
            int payload = whole.length - packed.length;
            for (int cut : new int[] {payload + 1, payload + packed.length / 2, whole.length - 1}) {
                String why = refusal(Arrays.copyOf(whole, cut));
                assertTrue(why.contains(f.program() + "-compressed QEMU stream") || why.contains("truncated"),
                        f + " cut at " + cut + ": " + why);
            }
            byte[] corrupt = whole.clone();
            for (int i = payload + packed.length / 3; i < payload + packed.length / 3 + 16; i++) {
                corrupt[i] ^= 0x5a;
            }
            String why = refusal(corrupt);
            assertTrue(why.contains("compressed QEMU stream") || why.contains("corrupt") || why.contains("truncated")
                    || why.contains("magic"), f + " corrupt: " + why);
        }
    }

    @Test
    void junkThatDecompressesWellIsRefusedAtItsFirstBytes() throws IOException {
        // 256 MiB of 0xff in 250 KiB of gzip: refused from the first decompressed bytes, not spooled
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(b)) {
            byte[] ff = new byte[1 << 20];
            Arrays.fill(ff, (byte) 0xff);
            for (int i = 0; i < 256; i++) {
                gz.write(ff);
            }
        }
        String why = refusal(image(ByteOrder.LITTLE_ENDIAN, SaveFormat.GZIP, XML, b.toByteArray()));
        assertTrue(why.contains("decompresses to bytes starting 0xffffffff, not QEMU's migration stream"), why);
    }

    @Test
    void headerRefusals() throws IOException {
        byte[] stream = TestMigration.typical().finish();
        byte[] good = image(ByteOrder.LITTLE_ENDIAN, SaveFormat.RAW, XML, stream);
        byte[] unknown = good.clone();
        unknown[LibvirtSaveImage.COMPRESSED_OFFSET] = 9;
        assertTrue(refusal(unknown).contains("compressed=9"), refusal(unknown));
        byte[] sparse = good.clone();
        sparse[LibvirtSaveImage.COMPRESSED_OFFSET] = 6;
        assertTrue(refusal(sparse).contains("sparse"), refusal(sparse));
        byte[] version = good.clone();
        version[LibvirtSaveImage.VERSION_OFFSET] = 3;
        assertTrue(refusal(version).contains("version 3"), refusal(version));
        byte[] partial = good.clone();
        System.arraycopy(LibvirtSaveImage.QEMU_SAVE_PARTIAL.getBytes(StandardCharsets.ISO_8859_1), 0, partial, 0, 16);
        assertTrue(refusal(partial).contains("did not finish"), refusal(partial));
        byte[] long_ = good.clone();
        ByteBuffer.wrap(long_).order(ByteOrder.LITTLE_ENDIAN).putInt(LibvirtSaveImage.DATA_LEN_OFFSET, 0x7fff_0000);
        assertTrue(refusal(long_).contains("data_len"), refusal(long_));
        byte[] cookie = good.clone();
        ByteBuffer.wrap(cookie).order(ByteOrder.LITTLE_ENDIAN).putInt(LibvirtSaveImage.COOKIE_OFFSET_OFFSET,
                0x7fff_0000);
        assertTrue(refusal(cookie).contains("cookieOffset"), refusal(cookie));
        byte[] badXml = image(ByteOrder.LITTLE_ENDIAN, SaveFormat.RAW, "<domain><name>", stream);
        assertTrue(refusal(badXml).contains("does not parse"), refusal(badXml));
        // version 1 (libvirt before compression existed): the compressed field is not looked at, as libvirt does
        byte[] v1 = good.clone();
        v1[LibvirtSaveImage.VERSION_OFFSET] = 1;
        v1[LibvirtSaveImage.COMPRESSED_OFFSET] = 1;
        try (LoadedGuest g = open(v1)) {
            assertEquals("raw", g.state().properties().get("libvirt-save-format"));
        }
    }

    @Test
    void compressedImagesAreRecognisedByContent() throws IOException {
        Path p = dir.resolve("managed.save");
        Files.write(p, image(ByteOrder.LITTLE_ENDIAN, SaveFormat.GZIP, XML,
                compressInJvm(SaveFormat.GZIP, TestMigration.typical().finish())));
        assertInstanceOf(SaveStateSource.class, SourceSpec.parse(p.toString()));
    }

    private static boolean onPath(String exe) {
        for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!d.isEmpty() && Files.isExecutable(Path.of(d, exe))) {
                return true;
            }
        }
        return false;
    }
}
