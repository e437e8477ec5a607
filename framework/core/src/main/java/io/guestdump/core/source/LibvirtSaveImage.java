package io.guestdump.core.source;

import io.guestdump.arch.api.InvalidInputException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Optional;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.xml.sax.SAXException;

/**
 * libvirt's save image ({@code virsh save}, managed save, {@code virsh snapshot-create} memory files): the
 * {@code virQEMUSaveHeader}, the domain XML (and save cookie) it announces, then QEMU's migration stream, raw or
 * compressed by the program {@code save_image_format} names. Layout (libvirt {@code src/qemu/qemu_saveimage.h}):
 *
 * <pre>
 *   0  magic[16]       "LibvirtQemudSave" (complete) or "LibvirtQemudPart" (the save did not finish)
 *  16  u32 version     2 (1: images of libvirt before 0.7.x, never compressed)
 *  20  u32 data_len    bytes of XML + cookie + zero padding (libvirt pads 64 KiB for later XML edits)
 *  24  u32 was_running 1 when the guest ran before the save (a restore resumes it)
 *  28  u32 compressed  the virQEMUSaveFormat below (called "format" since libvirt 10.x)
 *  32  u32 cookieOffset where the cookie starts in the data, 0 for none
 *  36  u32 unused[14]
 *  92  domain XML, NUL-terminated; cookie XML at cookieOffset; zeros up to data_len
 *  92 + data_len: QEMU's stream (compressed as one stream of the format's program: "gzip -c", "xz -c", ...)
 * </pre>
 *
 * All fields are in the saving host's byte order; libvirt tells it by the version being too large to be ours.
 */
public final class LibvirtSaveImage {
    /** libvirt's {@code QEMU_SAVE_MAGIC}: a complete image. */
    public static final String QEMU_SAVE_MAGIC = "LibvirtQemudSave";
    /** libvirt's {@code QEMU_SAVE_PARTIAL}: an image whose save did not finish. */
    public static final String QEMU_SAVE_PARTIAL = "LibvirtQemudPart";
    /** {@code QEMU_SAVE_VERSION}: the newest header version. */
    public static final int QEMU_SAVE_VERSION = 2;
    /** {@code sizeof(virQEMUSaveHeader)}. */
    public static final int HEADER_SIZE = 92;
    static final int VERSION_OFFSET = 16;
    static final int DATA_LEN_OFFSET = 20;
    static final int WAS_RUNNING_OFFSET = 24;
    static final int COMPRESSED_OFFSET = 28;
    static final int COOKIE_OFFSET_OFFSET = 32;
    /** The longest domain XML read (libvirt's own limit for a domain XML file is 10 MiB). */
    static final int MAX_XML = 16 << 20;

    /**
     * {@code virQEMUSaveFormat}: the values of the header's {@code compressed} field (on-disk ABI, never reused).
     * libvirt 9.0 (Debian bookworm) writes raw, gzip, bzip2, xz and lzop; zstd came later; sparse is libvirt
     * 11's mapped-ram layout.
     */
    public enum SaveFormat {
        /** {@code QEMU_SAVE_FORMAT_RAW}. */
        RAW(0, "raw", null),
        /** {@code QEMU_SAVE_FORMAT_GZIP}. */
        GZIP(1, "gzip", "gzip"),
        /** {@code QEMU_SAVE_FORMAT_BZIP2}. */
        BZIP2(2, "bzip2", "bzip2"),
        /** {@code QEMU_SAVE_FORMAT_XZ} (3; an earlier LZMA value was never released). */
        XZ(3, "xz", "xz-utils"),
        /** {@code QEMU_SAVE_FORMAT_LZOP}. */
        LZOP(4, "lzop", "lzop"),
        /** {@code QEMU_SAVE_FORMAT_ZSTD}. */
        ZSTD(5, "zstd", "zstd"),
        /** {@code QEMU_SAVE_FORMAT_SPARSE}: QEMU's mapped-ram stream, pages at fixed file offsets. */
        SPARSE(6, "sparse", null);

        private final int wire;
        private final String program;
        private final String debianPackage;

        SaveFormat(int wire, String program, String debianPackage) {
            this.wire = wire;
            this.program = program;
            this.debianPackage = debianPackage;
        }

        /** The header's value. */
        public int wire() {
            return wire;
        }

        /** {@code save_image_format}'s name, which is also the program libvirt runs. */
        public String program() {
            return program;
        }

        /** The Debian package of the program, or null when none is run. */
        public String debianPackage() {
            return debianPackage;
        }

        /** The format of a header value; {@link IllegalArgumentException} naming it when unknown. */
        public static SaveFormat fromWire(long value) {
            for (SaveFormat f : values()) {
                if (f.wire == value) {
                    return f;
                }
            }
            throw new IllegalArgumentException("unknown virQEMUSaveFormat: " + value);
        }
    }

    /**
     * {@code virQEMUSaveHeader}, decoded.
     *
     * @param magic        {@code magic}: {@link #QEMU_SAVE_MAGIC} or {@link #QEMU_SAVE_PARTIAL}
     * @param version      {@code version}: 1 or 2
     * @param dataLen      {@code data_len}: bytes of XML, cookie and padding after the header
     * @param wasRunning   {@code was_running}: the guest ran before the save
     * @param format       {@code compressed}: how the QEMU stream is stored
     * @param cookieOffset {@code cookieOffset}: where the cookie starts in the data, 0 for none
     * @param order        the saving host's byte order
     */
    public record Header(String magic, long version, long dataLen, boolean wasRunning, SaveFormat format,
            long cookieOffset, ByteOrder order) {
        /** Where QEMU's stream starts in the file. */
        public long streamOffset() {
            return HEADER_SIZE + dataLen;
        }
    }

    /**
     * What the domain XML says that a dump can use.
     *
     * @param name        {@code <name>}
     * @param uuid        {@code <uuid>}, or null
     * @param arch        {@code <os><type arch=...>}, or null
     * @param machine     {@code <os><type machine=...>}, the machine type libvirt started QEMU with, or null
     * @param memoryBytes {@code <memory>} in bytes (RAM at boot, DIMMs included), or -1
     * @param vcpus       {@code <vcpu>} (the maximum), or -1
     */
    public record DomainInfo(String name, String uuid, String arch, String machine, long memoryBytes, int vcpus) {}

    private final Header header;
    private final String xml;
    private final DomainInfo domain;

    private LibvirtSaveImage(Header header, String xml, DomainInfo domain) {
        this.header = header;
        this.xml = xml;
        this.domain = domain;
    }

    /** The header. */
    public Header header() {
        return header;
    }

    /** The domain XML as libvirt wrote it (without the cookie and padding). */
    public String xml() {
        return xml;
    }

    /** What the domain XML tells. */
    public DomainInfo domain() {
        return domain;
    }

    /** Whether {@code head} starts with either libvirt magic. */
    public static boolean recognise(byte[] head) {
        if (head.length < 16) {
            return false;
        }
        String m = new String(head, 0, 16, StandardCharsets.ISO_8859_1);
        return m.equals(QEMU_SAVE_MAGIC) || m.equals(QEMU_SAVE_PARTIAL);
    }

    /**
     * Reads the header and the domain XML of an image, or returns empty when the file does not start with a
     * libvirt magic. Refuses (with {@link InvalidInputException}) a partial image, a version other than 1 and 2,
     * an unknown format and a {@code data_len} beyond the file.
     */
    public static Optional<LibvirtSaveImage> read(FileChannel channel, Path file) {
        long size;
        ByteBuffer h = ByteBuffer.allocate(HEADER_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        try {
            size = channel.size();
            readFully(channel, h, 0);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (!recognise(h.array())) {
            return Optional.empty();
        }
        String magic = new String(h.array(), 0, 16, StandardCharsets.ISO_8859_1);
        if (magic.equals(QEMU_SAVE_PARTIAL)) {
            throw new InvalidInputException(file + ": a partial libvirt save image (" + QEMU_SAVE_PARTIAL + "): the "
                    + "save did not finish, so the guest's state is incomplete; save the domain again");
        }
        if (h.position() < HEADER_SIZE) {
            throw new InvalidInputException(file + ": libvirt save header (virQEMUSaveHeader, " + HEADER_SIZE
                    + " bytes) truncated at " + h.position() + " bytes");
        }
        long version = Integer.toUnsignedLong(h.getInt(VERSION_OFFSET));
        if (version > QEMU_SAVE_VERSION) {
            h.order(ByteOrder.BIG_ENDIAN); // written by a host of the other byte order, as libvirt decides it
            version = Integer.toUnsignedLong(h.getInt(VERSION_OFFSET));
        }
        if (version < 1 || version > QEMU_SAVE_VERSION) {
            throw new InvalidInputException(file + ": libvirt save image version " + Integer.toUnsignedLong(
                    h.order(ByteOrder.LITTLE_ENDIAN).getInt(VERSION_OFFSET)) + "; versions 1 and 2 are read");
        }
        long dataLen = Integer.toUnsignedLong(h.getInt(DATA_LEN_OFFSET));
        long wasRunning = Integer.toUnsignedLong(h.getInt(WAS_RUNNING_OFFSET));
        long compressed = Integer.toUnsignedLong(h.getInt(COMPRESSED_OFFSET));
        long cookieOffset = Integer.toUnsignedLong(h.getInt(COOKIE_OFFSET_OFFSET));
        SaveFormat format;
        if (version == 1) {
            format = SaveFormat.RAW; // libvirt decompresses version-2 images only
        } else {
            try {
                format = SaveFormat.fromWire(compressed);
            } catch (IllegalArgumentException e) {
                throw new InvalidInputException(file + ": libvirt save header's compressed=" + compressed + " is no "
                        + "format libvirt writes (0 raw, 1 gzip, 2 bzip2, 3 xz, 4 lzop, 5 zstd, 6 sparse)", e);
            }
        }
        if (dataLen == 0 || HEADER_SIZE + dataLen >= size) {
            throw new InvalidInputException(file + ": libvirt header's data_len " + dataLen + " leaves no QEMU stream "
                    + "in the file (" + size + " bytes): the image is truncated, or data_len is corrupt");
        }
        if (cookieOffset > dataLen) {
            throw new InvalidInputException(file + ": libvirt header's cookieOffset " + cookieOffset
                    + " is beyond data_len " + dataLen);
        }
        long xmlSpace = cookieOffset != 0 ? cookieOffset : dataLen;
        int xmlRead = (int) Math.min(xmlSpace, MAX_XML);
        ByteBuffer x = ByteBuffer.allocate(xmlRead);
        try {
            readFully(channel, x, HEADER_SIZE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        int end = 0;
        while (end < xmlRead && x.get(end) != 0) {
            end++;
        }
        if (end == xmlRead && xmlSpace > MAX_XML) {
            throw new InvalidInputException(file + ": the domain XML after the libvirt header is longer than "
                    + (MAX_XML >> 20) + " MiB (data_len " + dataLen + ")");
        }
        String xml = new String(x.array(), 0, end, StandardCharsets.UTF_8);
        Header header = new Header(magic, version, dataLen, wasRunning != 0, format, cookieOffset, h.order());
        return Optional.of(new LibvirtSaveImage(header, xml, domain(xml, file)));
    }

    /** The facts of a domain XML; refuses text that is not a {@code <domain>} document. */
    static DomainInfo domain(String xml, Path file) {
        Document doc;
        try {
            DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
            f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            f.setXIncludeAware(false);
            f.setExpandEntityReferences(false);
            f.setNamespaceAware(false);
            DocumentBuilder b = f.newDocumentBuilder();
            b.setErrorHandler(null);
            doc = b.parse(new ByteArrayInputStream(xml.getBytes(StandardCharsets.UTF_8)));
        } catch (ParserConfigurationException e) {
            throw new IllegalStateException("the JDK's XML parser lacks a feature: " + e.getMessage(), e);
        } catch (SAXException | IOException e) {
            throw new InvalidInputException(file + ": the domain XML after the libvirt header does not parse: "
                    + e.getMessage(), e);
        }
        Element root = doc.getDocumentElement();
        if (!root.getTagName().equals("domain")) {
            throw new InvalidInputException(file + ": the XML after the libvirt header is <" + root.getTagName()
                    + ">, not a <domain>");
        }
        String name = text(root, "name");
        String uuid = text(root, "uuid");
        Element os = child(root, "os");
        Element type = os == null ? null : child(os, "type");
        String arch = type == null || type.getAttribute("arch").isEmpty() ? null : type.getAttribute("arch");
        String machine = type == null || type.getAttribute("machine").isEmpty() ? null : type.getAttribute("machine");
        long memory = -1;
        Element mem = child(root, "memory");
        if (mem != null) {
            memory = bytes(mem.getTextContent().trim(), mem.getAttribute("unit"), file);
        }
        int vcpus = -1;
        String v = text(root, "vcpu");
        if (v != null) {
            try {
                vcpus = Integer.parseInt(v.trim());
            } catch (NumberFormatException e) {
                throw new InvalidInputException(file + ": the domain XML's <vcpu> is '" + v + "', not a number", e);
            }
        }
        return new DomainInfo(name == null ? "" : name.trim(), uuid == null ? null : uuid.trim(), arch, machine,
                memory, vcpus);
    }

    /** A libvirt scaled integer ({@code virScaleInteger}): unit b, KiB (default), MiB... or KB, MB... */
    private static long bytes(String value, String unit, Path file) {
        long scale = switch (unit.isEmpty() ? "kib" : unit.toLowerCase(java.util.Locale.ROOT)) {
            case "b", "bytes" -> 1L;
            case "k", "kib" -> 1L << 10;
            case "kb" -> 1000L;
            case "m", "mib" -> 1L << 20;
            case "mb" -> 1000_000L;
            case "g", "gib" -> 1L << 30;
            case "gb" -> 1000_000_000L;
            case "t", "tib" -> 1L << 40;
            case "tb" -> 1000_000_000_000L;
            default -> throw new InvalidInputException(file + ": the domain XML's <memory unit='" + unit
                    + "'> is no unit libvirt writes");
        };
        try {
            return Math.multiplyExact(Long.parseLong(value), scale);
        } catch (NumberFormatException | ArithmeticException e) {
            throw new InvalidInputException(file + ": the domain XML's <memory> is '" + value + "' " + unit
                    + ", not a size", e);
        }
    }

    private static Element child(Element parent, String tag) {
        for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e && e.getTagName().equals(tag)) {
                return e;
            }
        }
        return null;
    }

    private static String text(Element parent, String tag) {
        Element e = child(parent, tag);
        return e == null ? null : e.getTextContent();
    }

    private static void readFully(FileChannel ch, ByteBuffer b, long pos) throws IOException {
        while (b.hasRemaining()) {
            if (ch.read(b, pos + b.position()) < 0) {
                return;
            }
        }
    }
}
