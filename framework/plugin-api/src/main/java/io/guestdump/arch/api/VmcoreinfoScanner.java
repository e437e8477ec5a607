package io.guestdump.arch.api;

import io.guestdump.memory.GuestBlock;
import io.guestdump.memory.GuestMemory;
import io.guestdump.memory.PhysRange;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * Finds the guest kernel's VMCOREINFO note in guest-physical memory, for guests whose hypervisor was never told
 * where it is (no {@code -device vmcoreinfo}, or a source without it).
 *
 * <p>Linux keeps the note in pages of its own ({@code vmcoreinfo_note}, allocated page by page in
 * {@code kernel/crash_core.c}), so it starts on a page boundary: the scan looks at the first bytes of every 4 KiB
 * page (4 KiB divides every page size Linux uses). A page holds the note when it starts with
 *
 * <pre>
 * offset  field      value
 * 0       n_namesz   11            in either byte order (the guest's, whatever the dump's is)
 * 4       n_descsz   10 … {@value #MAX_DESC_BYTES}
 * 8       n_type     0
 * 12      name       "VMCOREINFO\0\0"   padded to 12 bytes
 * 24      desc       "OSRELEASE=…"      printable ASCII lines KEY=VALUE, n_descsz bytes
 * </pre>
 *
 * Memory is read block by block in {@value #CHUNK_BYTES}-byte chunks, never whole. The first page that passes
 * every check wins.
 */
public final class VmcoreinfoScanner {
    /** The scan granularity: the note starts on a page boundary, and 4 KiB divides every page size. */
    public static final int PAGE = 4096;
    /** The largest descriptor accepted: Linux's VMCOREINFO_BYTES is one page, at most 64 KiB. */
    public static final int MAX_DESC_BYTES = 64 * 1024;
    /** Bytes read per step. */
    public static final int CHUNK_BYTES = 4 << 20;

    private static final int HEADER_BYTES = 24;
    private static final int NAMESZ = 11;
    private static final byte[] NAME = "VMCOREINFO\0\0".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] FIRST_KEY = "OSRELEASE=".getBytes(StandardCharsets.US_ASCII);

    private VmcoreinfoScanner() {}

    /**
     * A VMCOREINFO note found in guest memory.
     *
     * @param address guest-physical address of its note header
     * @param order   the byte order of the header words (the guest's)
     * @param text    the descriptor, as the kernel wrote it
     */
    public record Found(long address, ByteOrder order, String text) {
        /** For messages, after "from": {@code guest memory at 0x11e2000 (found by search)}. */
        public String origin() {
            return "guest memory at " + PhysRange.hex(address) + " (found by search)";
        }
    }

    /** The first VMCOREINFO note in the guest's memory, or empty. */
    public static Optional<Found> find(GuestMemory memory) throws IOException {
        return find(memory, scanned -> { });
    }

    /**
     * The first VMCOREINFO note in the guest's memory, or empty; {@code scanned} is told the bytes searched so far
     * after every chunk (for a progress bar: the search reads all memory when the guest has no note).
     */
    public static Optional<Found> find(GuestMemory memory, java.util.function.LongConsumer scanned)
            throws IOException {
        ByteBuffer chunk = null;
        long done = 0;
        for (GuestBlock b : memory.blocks()) {
            long start = b.range().start();
            long end = b.range().end();
            long page = alignUp(start);
            if (page == 0 && start != 0) {
                continue; // the block lies in the last page of the address space
            }
            while (Long.compareUnsigned(page, end) < 0) {
                long zeros = Math.min(end - page, b.data().knownZeros(page - start)) & -PAGE;
                if (zeros > 0) { // known zeros (a zero-filled tail) hold no note: skipped, not read
                    page += zeros;
                    continue;
                }
                long len = Math.min(CHUNK_BYTES, end - page);
                if (chunk == null) {
                    chunk = ByteBuffer.allocate(CHUNK_BYTES);
                }
                chunk.clear().limit((int) len);
                b.data().read(page - start, chunk);
                chunk.flip();
                for (int at = 0; at < len; at += PAGE) {
                    Optional<Found> f = check(memory, chunk, at, page + at);
                    if (f.isPresent()) {
                        return f;
                    }
                }
                page += len;
                done += len;
                scanned.accept(done);
            }
        }
        return Optional.empty();
    }

    /** Whether the page at {@code address} (its first bytes at {@code at} in {@code chunk}) starts the note. */
    private static Optional<Found> check(GuestMemory memory, ByteBuffer chunk, int at, long address)
            throws IOException {
        ByteBuffer head;
        if (chunk.limit() - at >= HEADER_BYTES) {
            head = chunk.slice(at, HEADER_BYTES);
        } else {
            if (!memory.isBacked(address, HEADER_BYTES)) {
                return Optional.empty();
            }
            head = ByteBuffer.allocate(HEADER_BYTES);
            memory.read(address, head);
            head.flip();
        }
        ByteOrder order;
        if (head.order(ByteOrder.LITTLE_ENDIAN).getInt(0) == NAMESZ) {
            order = ByteOrder.LITTLE_ENDIAN;
        } else if (head.order(ByteOrder.BIG_ENDIAN).getInt(0) == NAMESZ) {
            order = ByteOrder.BIG_ENDIAN;
        } else {
            return Optional.empty();
        }
        head.order(order);
        int descsz = head.getInt(4);
        if (head.getInt(8) != 0 || descsz < FIRST_KEY.length || descsz > MAX_DESC_BYTES) {
            return Optional.empty();
        }
        for (int i = 0; i < NAME.length; i++) {
            if (head.get(12 + i) != NAME[i]) {
                return Optional.empty();
            }
        }
        long descAddress = address + HEADER_BYTES;
        byte[] desc = new byte[descsz];
        if (chunk.limit() - at - HEADER_BYTES >= descsz) {
            chunk.get(at + HEADER_BYTES, desc);
        } else {
            if (!memory.isBacked(descAddress, descsz)) {
                return Optional.empty();
            }
            memory.read(descAddress, ByteBuffer.wrap(desc));
        }
        if (!isVmcoreinfoText(desc)) {
            return Optional.empty();
        }
        return Optional.of(new Found(address, order, new String(desc, StandardCharsets.US_ASCII)));
    }

    /**
     * Whether the bytes read like VMCOREINFO: they start {@code OSRELEASE=}, hold only printable ASCII and
     * newlines, and every line is {@code KEY=VALUE} with a non-empty key.
     */
    public static boolean isVmcoreinfoText(byte[] text) {
        if (text.length < FIRST_KEY.length) {
            return false;
        }
        for (int i = 0; i < FIRST_KEY.length; i++) {
            if (text[i] != FIRST_KEY[i]) {
                return false;
            }
        }
        int lineStart = 0;
        boolean sawEquals = false;
        for (int i = 0; i < text.length; i++) {
            byte c = text[i];
            if (c == '\n') {
                if (!sawEquals) {
                    return false;
                }
                lineStart = i + 1;
                sawEquals = false;
            } else if (c < 0x20 || c > 0x7e) {
                return false;
            } else if (c == '=' && !sawEquals) {
                if (i == lineStart) {
                    return false;
                }
                sawEquals = true;
            }
        }
        return lineStart == text.length || sawEquals;
    }

    private static long alignUp(long address) {
        return (address + PAGE - 1) & -PAGE;
    }
}
