package io.guestdump.core.source.qmp;

import java.io.IOException;
import java.math.BigInteger;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A minimal GDB remote serial protocol client for QEMU's gdbstub, used only to read registers by name: the target
 * description ({@code qXfer:features:read:target.xml} and the files it includes) gives each register's number, the
 * thread list ({@code qfThreadInfo}) the vCPUs, and {@code Hg<thread>} + {@code p<regnum>} the values.
 *
 * <p>QEMU 7.2 answers {@code p} with an empty packet until the client has read {@code target.xml}, so the
 * description is always read first. Values come in the target's byte order, little-endian for every QEMU system
 * target this is used for (whichever the plugin names in its gdbstubRegisters). No packet here resumes or detaches the guest:
 * the connection is just closed, then the caller stops the stub ({@code gdbserver none}).
 */
final class GdbStub implements AutoCloseable {
    /** The longest reply packet accepted (QEMU's are at most a few KiB). */
    static final int MAX_PACKET = 1 << 20;
    /** The longest target description file accepted. */
    static final int MAX_XFER = 16 << 20;
    /** The most threads (vCPUs) accepted. */
    static final int MAX_THREADS = 1 << 16;
    private static final Pattern COMMENT = Pattern.compile("<!--.*?-->", Pattern.DOTALL);
    private static final Pattern INCLUDE = Pattern.compile("<xi:include\\s+href=\"([^\"]+)\"");
    private static final Pattern REG = Pattern.compile("<reg\\s([^>]*)>");
    private static final Pattern ATTR = Pattern.compile("(\\w+)=\"([^\"]*)\"");
    private static final int CHUNK = 0xf00;

    private final SocketChannel ch;
    private final Selector selector;
    private final Duration timeout;
    private final ByteBuffer in = ByteBuffer.allocate(1 << 16);

    /** A register of the target description. */
    record Register(String name, int number, int bits) {}

    private GdbStub(SocketChannel ch, Selector selector, Duration timeout) {
        this.ch = ch;
        this.selector = selector;
        this.timeout = timeout;
        in.flip();
    }

    /** Connects to the stub's unix socket. */
    static GdbStub connect(Path socket, Duration timeout) throws IOException {
        SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(socket));
        ch.configureBlocking(false);
        Selector sel = Selector.open();
        ch.register(sel, SelectionKey.OP_READ);
        GdbStub stub = new GdbStub(ch, sel, timeout);
        try {
            stub.request("qSupported:multiprocess+");
        } catch (IOException | RuntimeException e) {
            stub.close();
            throw e;
        }
        return stub;
    }

    /** Every register of the target description, by name (numbers implicit where the XML gives none). */
    Map<String, Register> registers() throws IOException {
        Map<String, Register> regs = new LinkedHashMap<>();
        int[] next = {0};
        describe("target.xml", regs, next, 0);
        return regs;
    }

    private void describe(String file, Map<String, Register> regs, int[] next, int depth) throws IOException {
        // QEMU 7.2's target XML comments some registers out (segment bases): registers in comments do not count
        String xml = COMMENT.matcher(xfer(file)).replaceAll("");
        // registers and includes in document order: a file's own <reg> lines and its includes interleave
        Matcher inc = INCLUDE.matcher(xml);
        Matcher reg = REG.matcher(xml);
        int pos = 0;
        while (true) {
            boolean hasInc = inc.find(pos);
            int incAt = hasInc ? inc.start() : Integer.MAX_VALUE;
            boolean hasReg = reg.find(pos);
            int regAt = hasReg ? reg.start() : Integer.MAX_VALUE;
            if (!hasInc && !hasReg) {
                return;
            }
            if (incAt < regAt) {
                if (depth < 4) {
                    describe(inc.group(1), regs, next, depth + 1);
                }
                pos = inc.end();
            } else {
                Map<String, String> a = new LinkedHashMap<>();
                Matcher m = ATTR.matcher(reg.group(1));
                while (m.find()) {
                    a.put(m.group(1), m.group(2));
                }
                int number = a.containsKey("regnum") ? Integer.parseInt(a.get("regnum")) : next[0];
                next[0] = number + 1;
                String name = a.get("name");
                if (name != null) {
                    regs.putIfAbsent(name, new Register(name, number, Integer.parseInt(a.getOrDefault("bitsize",
                            "64"))));
                }
                pos = reg.end();
            }
        }
    }

    private String xfer(String file) throws IOException {
        StringBuilder out = new StringBuilder();
        while (true) {
            if (out.length() > MAX_XFER) {
                throw new IOException("gdbstub: protocol error: " + file + " is longer than " + (MAX_XFER >> 20)
                        + " MiB");
            }
            String p = request(String.format("qXfer:features:read:%s:%x,%x", file, out.length(), CHUNK));
            if (p.isEmpty() || (p.charAt(0) != 'm' && p.charAt(0) != 'l')) {
                throw new IOException("gdbstub: reading " + file + " gave '" + p + "'");
            }
            out.append(p, 1, p.length());
            if (p.charAt(0) == 'l') {
                return out.toString();
            }
        }
    }

    /** The thread ids, in QEMU's order (vCPU index + 1). */
    List<String> threads() throws IOException {
        List<String> ids = new ArrayList<>();
        for (String p = request("qfThreadInfo"); p.startsWith("m"); p = request("qsThreadInfo")) {
            for (String id : p.substring(1).split(",")) {
                ids.add(id.trim());
            }
            if (ids.size() > MAX_THREADS) {
                throw new IOException("gdbstub: protocol error: more than " + MAX_THREADS + " threads");
            }
        }
        return ids;
    }

    /** QEMU's vCPU index of a thread id ({@code p01.02} or {@code 2}: thread 2 = vCPU 1). */
    static int cpuIndex(String threadId) {
        String t = threadId.contains(".") ? threadId.substring(threadId.indexOf('.') + 1) : threadId;
        return Integer.parseInt(t, 16) - 1;
    }

    /** Selects the thread whose registers {@link #read} returns. */
    void select(String threadId) throws IOException {
        String p = request("Hg" + threadId);
        if (!p.equals("OK")) {
            throw new IOException("gdbstub: Hg" + threadId + " gave '" + p + "'");
        }
    }

    /** A register of the selected thread (little-endian bytes), or null when the stub does not give it. */
    BigInteger read(Register r) throws IOException {
        String p = request("p" + Integer.toHexString(r.number()));
        if (p.isEmpty() || p.startsWith("E") || (p.length() & 1) != 0 || p.contains("x")) {
            return null;
        }
        byte[] be = new byte[p.length() / 2];
        for (int i = 0; i < be.length; i++) {
            be[be.length - 1 - i] = (byte) Integer.parseInt(p.substring(2 * i, 2 * i + 2), 16);
        }
        return new BigInteger(1, be);
    }

    /** Sends a packet and returns the reply's payload (acknowledged, escapes undone). */
    String request(String payload) throws IOException {
        int sum = 0;
        for (byte b : payload.getBytes(StandardCharsets.ISO_8859_1)) {
            sum += b & 0xff;
        }
        ByteBuffer out = ByteBuffer.wrap(("$" + payload + "#" + String.format("%02x", sum & 0xff))
                .getBytes(StandardCharsets.ISO_8859_1));
        while (out.hasRemaining()) {
            ch.write(out);
        }
        StringBuilder body = new StringBuilder();
        boolean inPacket = false;
        boolean escaped = false;
        int noise = 0;
        while (true) {
            int c = next();
            if (body.length() > MAX_PACKET || noise > MAX_PACKET) {
                throw new IOException("gdbstub: protocol error: a reply to " + payload + " longer than "
                        + (MAX_PACKET >> 10) + " KiB");
            }
            if (!inPacket) {
                noise++;
                if (c == '$') {
                    inPacket = true;
                } else if (c == '-') {
                    throw new IOException("gdbstub refused a packet (NAK): " + payload);
                }
                continue; // '+' acknowledgements
            }
            if (c == '#' && !escaped) {
                next();
                next();
                ByteBuffer ack = ByteBuffer.wrap(new byte[] {'+'});
                while (ack.hasRemaining()) {
                    ch.write(ack);
                }
                return body.toString();
            }
            if (escaped) {
                body.append((char) (c ^ 0x20));
                escaped = false;
            } else if (c == '}') {
                escaped = true;
            } else {
                body.append((char) c);
            }
        }
    }

    private int next() throws IOException {
        long end = System.nanoTime() + timeout.toNanos();
        while (!in.hasRemaining()) {
            long left = end - System.nanoTime();
            if (left <= 0) {
                throw new IOException("gdbstub: no reply within " + timeout.toSeconds() + " s");
            }
            selector.select(Math.max(1, left / 1_000_000));
            selector.selectedKeys().clear();
            in.compact();
            int n = ch.read(in);
            in.flip();
            if (n < 0) {
                throw new IOException("gdbstub closed the connection");
            }
        }
        return in.get() & 0xff;
    }

    @Override
    public void close() throws IOException {
        try {
            selector.close();
        } finally {
            ch.close();
        }
    }
}
