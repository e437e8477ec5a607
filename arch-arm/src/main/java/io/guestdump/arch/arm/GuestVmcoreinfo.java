package io.guestdump.arch.arm;

import io.guestdump.arch.api.GuestState;
import io.guestdump.elf.ElfData;
import io.guestdump.memory.GuestBlock;
import io.guestdump.memory.GuestMemory;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The guest kernel's VMCOREINFO as key/value pairs ({@code SYMBOL(swapper_pg_dir)}, {@code NUMBER(VA_BITS)}, ...).
 *
 * <p>It comes from the guest state when the source had it (QEMU's {@code -device vmcoreinfo}, a snapshot), else
 * from guest memory: the kernel keeps its own ELF note {@code Elf_Nhdr{11, descsz, 0} "VMCOREINFO\0\0"
 * "OSRELEASE=..."} in a page of RAM, which this class finds by scanning.
 */
final class GuestVmcoreinfo {
    /** The note name with its padding to 4 bytes, followed by the first key every kernel writes. */
    private static final byte[] MARKER = "VMCOREINFO\0\0OSRELEASE=".getBytes(StandardCharsets.US_ASCII);
    /** {@code Elf_Nhdr}: namesz, descsz, type. */
    private static final int NOTE_HEADER_SIZE = 12;
    /** The kernel's VMCOREINFO_BYTES. */
    private static final int MAX_DESC = 4096;
    private static final int CHUNK = 1 << 20;

    private final Map<String, String> values;

    private GuestVmcoreinfo(Map<String, String> values) {
        this.values = values;
    }

    /** Parses VMCOREINFO text ({@code KEY=VALUE} lines). */
    static GuestVmcoreinfo parse(String text) {
        Map<String, String> values = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                values.putIfAbsent(line.substring(0, eq).trim(), line.substring(eq + 1).trim());
            }
        }
        return new GuestVmcoreinfo(values);
    }

    /** The guest's VMCOREINFO: the state's, else the note found in guest memory, else empty. */
    static Optional<GuestVmcoreinfo> of(GuestState guest) throws IOException {
        if (guest.vmcoreinfo().isPresent()) {
            return Optional.of(parse(guest.vmcoreinfo().get()));
        }
        return scan(guest.memory()).map(GuestVmcoreinfo::parse);
    }

    /** Finds the kernel's VMCOREINFO note in guest memory and returns its text. */
    static Optional<String> scan(GuestMemory memory) throws IOException {
        byte[] chunk = new byte[CHUNK + MARKER.length];
        for (GuestBlock b : memory.blocks()) {
            long start = b.range().start();
            long length = b.range().length();
            for (long at = 0; at < length; at += CHUNK) {
                int n = (int) Math.min(chunk.length, length - at);
                memory.read(start + at, ElfData.LSB.wrap(chunk).limit(n));
                for (int i = NOTE_HEADER_SIZE; i + MARKER.length <= n; i++) {
                    if (matches(chunk, i)) {
                        Optional<String> text = note(memory, start + at + i);
                        if (text.isPresent()) {
                            return text;
                        }
                    }
                }
            }
        }
        return Optional.empty();
    }

    private static boolean matches(byte[] chunk, int i) {
        if (chunk[i] != 'V') {
            return false;
        }
        for (int k = 1; k < MARKER.length; k++) {
            if (chunk[i + k] != MARKER[k]) {
                return false;
            }
        }
        return true;
    }

    /** Reads the note whose name starts at {@code nameAddress}; its header decides the byte order. */
    private static Optional<String> note(GuestMemory memory, long nameAddress) throws IOException {
        ByteBuffer header = ElfData.LSB.allocate(NOTE_HEADER_SIZE);
        memory.read(nameAddress - NOTE_HEADER_SIZE, header);
        for (ElfData data : ElfData.values()) {
            header.order(data.order());
            int namesz = header.getInt(0);
            int descsz = header.getInt(4);
            if (namesz == 11 && descsz > 0 && descsz <= MAX_DESC && header.getInt(8) == 0) {
                ByteBuffer desc = data.allocate(descsz);
                long descAddress = nameAddress + 12;
                if (!memory.isBacked(descAddress, descsz)) {
                    return Optional.empty();
                }
                memory.read(descAddress, desc);
                String text = new String(desc.array(), 0, descsz, StandardCharsets.US_ASCII);
                int nul = text.indexOf('\0');
                return Optional.of(nul >= 0 ? text.substring(0, nul) : text);
            }
        }
        return Optional.empty();
    }

    /** A raw value, e.g. {@code get("OSRELEASE")}. */
    Optional<String> get(String key) {
        return Optional.ofNullable(values.get(key));
    }

    /** {@code SYMBOL(name)=hex}. */
    Optional<Long> symbol(String name) {
        return get("SYMBOL(" + name + ")").map(v -> Long.parseUnsignedLong(v, 16));
    }

    /** {@code NUMBER(name)=}: decimal, possibly negative, or {@code 0x} hex. */
    Optional<Long> number(String name) {
        return get("NUMBER(" + name + ")").map(GuestVmcoreinfo::parseNumber);
    }

    /** {@code PAGESIZE=} decimal. */
    Optional<Long> pageSize() {
        return get("PAGESIZE").map(Long::parseLong);
    }

    /** Whether {@code CONFIG_name=y}. */
    boolean config(String name) {
        return "y".equals(values.get("CONFIG_" + name));
    }

    private static long parseNumber(String v) {
        return v.startsWith("0x") || v.startsWith("0X") ? Long.parseUnsignedLong(v.substring(2), 16) : Long.parseLong(v);
    }
}
