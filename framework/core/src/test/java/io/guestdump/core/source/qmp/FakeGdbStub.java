package io.guestdump.core.source.qmp;

import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * A GDB remote-protocol server that answers like QEMU 7.2's aarch64 gdbstub for two vCPUs: a target description in
 * three files (the last one's registers with explicit {@code regnum}, sent in two parts), threads {@code p01.01}
 * and {@code p01.02}, and registers in little-endian hex. Like QEMU, {@code p} answers empty until target.xml has
 * been read. Values: register number {@code n} of vCPU {@code i} holds {@code 0x1122334400000000 + n * 0x100 + i}.
 */
final class FakeGdbStub implements AutoCloseable {
    static final Map<String, String> FILES = Map.of(
            "target.xml", "<?xml version=\"1.0\"?><!DOCTYPE target SYSTEM \"gdb-target.dtd\"><target>"
                    + "<architecture>aarch64</architecture><!-- escaped: # } $ --><xi:include href=\"core.xml\"/>"
                    + "<xi:include href=\"system-registers.xml\"/></target>",
            "core.xml", "<feature name=\"org.gnu.gdb.aarch64.core\"><reg name=\"x0\" bitsize=\"64\"/>"
                    + "<!--reg name=\"commented\" bitsize=\"64\"/>\n<reg name=\"out\" bitsize=\"64\"/-->"
                    + "<reg name=\"x1\" bitsize=\"64\"/><reg name=\"pc\" bitsize=\"64\" type=\"code_ptr\"/></feature>",
            "system-registers.xml", "<feature name=\"org.qemu.gdb.arm.sys.regs\">"
                    + "<reg name=\"SCTLR\" bitsize=\"64\" regnum=\"74\" group=\"cp_regs\"/>"
                    + "<reg name=\"TTBR0_EL1\" bitsize=\"64\" regnum=\"146\" group=\"cp_regs\"/>"
                    + "<reg name=\"NEXT\" bitsize=\"64\" group=\"cp_regs\"/></feature>");

    /** Packets received, in order. */
    final List<String> packets = Collections.synchronizedList(new ArrayList<>());
    private final ServerSocketChannel server;
    private final Thread thread;

    FakeGdbStub(Path socket) throws IOException {
        server = ServerSocketChannel.open(java.net.StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket));
        thread = new Thread(this::serve, "fake-gdbstub");
        thread.setDaemon(true);
        thread.start();
    }

    static long value(int regnum, int cpu) {
        return 0x1122334400000000L + regnum * 0x100L + cpu;
    }

    private void serve() {
        try (SocketChannel c = server.accept()) {
            boolean described = false;
            int cpu = 0;
            int qs = 0;
            StringBuilder pkt = null;
            ByteBuffer buf = ByteBuffer.allocate(4096);
            while (c.read(buf.clear()) > 0) {
                buf.flip();
                while (buf.hasRemaining()) {
                    char ch = (char) buf.get();
                    if (pkt == null) {
                        if (ch == '$') {
                            pkt = new StringBuilder();
                        }
                        continue;
                    }
                    if (ch != '#') {
                        pkt.append(ch);
                        continue;
                    }
                    buf.get();
                    buf.get();
                    String p = pkt.toString();
                    pkt = null;
                    packets.add(p);
                    String reply;
                    if (p.startsWith("qSupported")) {
                        reply = "PacketSize=1000;qXfer:features:read+;vContSupported+;multiprocess+";
                    } else if (p.startsWith("qXfer:features:read:")) {
                        String[] f = p.substring("qXfer:features:read:".length()).split(":");
                        String text = FILES.get(f[0]);
                        int off = Integer.parseInt(f[1].split(",")[0], 16);
                        described |= f[0].equals("target.xml");
                        int len = Math.min(text.length() - off, 40); // small parts: the client must continue
                        reply = (off + len >= text.length() ? "l" : "m") + text.substring(off, off + len)
                                .replace("}", "}]").replace("#", "}\u0003").replace("$", "}\u0004");
                    } else if (p.equals("qfThreadInfo")) {
                        reply = "mp01.01";
                    } else if (p.equals("qsThreadInfo")) {
                        reply = qs++ == 0 ? "mp01.02" : "l";
                    } else if (p.startsWith("Hg")) {
                        cpu = Integer.parseInt(p.substring(p.indexOf('.') + 1), 16) - 1;
                        reply = "OK";
                    } else if (p.startsWith("p")) {
                        int n = Integer.parseInt(p.substring(1), 16);
                        if (!described) {
                            reply = "";
                        } else if (n == 74 || n == 146 || n == 147) {
                            StringBuilder hex = new StringBuilder();
                            long v = value(n, cpu);
                            for (int i = 0; i < 8; i++) {
                                hex.append(String.format("%02x", (v >>> (8 * i)) & 0xff));
                            }
                            reply = hex.toString();
                        } else {
                            reply = "E14";
                        }
                    } else {
                        reply = "";
                    }
                    int sum = 0;
                    for (byte b : reply.getBytes(StandardCharsets.ISO_8859_1)) {
                        sum += b & 0xff;
                    }
                    c.write(ByteBuffer.wrap(("+$" + reply + "#" + String.format("%02x", sum & 0xff))
                            .getBytes(StandardCharsets.ISO_8859_1)));
                }
            }
        } catch (IOException e) {
            // closed
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
