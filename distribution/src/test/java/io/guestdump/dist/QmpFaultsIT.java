package io.guestdump.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real launcher against a scripted QMP peer (an x86_64 guest of 1 MiB, registers from the bundled sample):
 * the exit code and the words when QEMU refuses {@code cont} after a dump (exit 3, the dump exists, the guest is
 * PAUSED), and Ctrl-C while the {@code stop} reply is pending (exit 130, the state QEMU confirms).
 */
class QmpFaultsIT {
    @TempDir
    Path dir;

    /** A QMP server answering like QEMU 7.2 for a stopped-on-demand x86_64 guest; {@code script} may override. */
    static final class Peer implements AutoCloseable {
        private static final Pattern EXECUTE = Pattern.compile("\"execute\"\\s*:\\s*\"([^\"]+)\"");
        private static final Pattern ID = Pattern.compile("\"id\"\\s*:\\s*(\"[^\"]*\")");
        private static final Pattern LINE = Pattern.compile("\"command-line\"\\s*:\\s*\"([^\"]*)\"");
        static final Pattern SIZE = Pattern.compile("\"size\"\\s*:\\s*(\\d+)");
        static final Pattern FILE = Pattern.compile("\"filename\"\\s*:\\s*\"([^\"]+)\"");
        final List<String> log = Collections.synchronizedList(new ArrayList<>());
        volatile boolean running = true;
        volatile Function<String, String> script = c -> null;
        /** The whole message being handled, for a script that needs the arguments. */
        volatile String message;
        private final ServerSocketChannel server;
        private final String registers;

        Peer(Path socket) throws IOException {
            registers = Files.readString(Dist.home().resolve("config/guests/sample-x86_64-registers.txt"));
            server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            server.bind(UnixDomainSocketAddress.of(socket));
            Thread t = new Thread(this::serve, "qmp-peer");
            t.setDaemon(true);
            t.start();
        }

        private void serve() {
            while (server.isOpen()) {
                try (SocketChannel c = server.accept()) {
                    OutputStream out = Channels.newOutputStream(c);
                    out.write("{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7}}, \"capabilities\": []}}\r\n"
                            .getBytes(StandardCharsets.UTF_8));
                    StringBuilder in = new StringBuilder();
                    ByteBuffer buf = ByteBuffer.allocate(65536);
                    while (c.read(buf.clear()) > 0) {
                        in.append(new String(buf.array(), 0, buf.position(), StandardCharsets.UTF_8));
                        for (int nl; (nl = in.indexOf("\n")) >= 0; ) {
                            String msg = in.substring(0, nl);
                            in.delete(0, nl + 1);
                            String reply = handle(msg);
                            if (reply != null) {
                                out.write((reply + "\r\n").getBytes(StandardCharsets.UTF_8));
                            }
                        }
                    }
                } catch (IOException e) {
                    // the client went away; serve the next one
                }
            }
        }

        static String group(Pattern p, String s) {
            Matcher m = p.matcher(s);
            return m.find() ? m.group(1) : null;
        }

        private String handle(String msg) throws IOException {
            String cmd = group(EXECUTE, msg);
            String id = null; // the command's own id comes last (object-add's arguments hold another "id")
            for (Matcher m = ID.matcher(msg); m.find(); ) {
                id = m.group(1);
            }
            log.add(cmd);
            message = msg;
            String scripted = script.apply(cmd);
            if ("NO_REPLY".equals(scripted)) {
                return null;
            }
            String ret = scripted != null ? scripted : switch (cmd) {
                case "query-target" -> "{\"return\": {\"arch\": \"x86_64\"}";
                case "query-status" -> "{\"return\": {\"status\": \"" + (running ? "running" : "paused")
                        + "\", \"singlestep\": false, \"running\": " + running + "}";
                case "query-dump" -> "{\"return\": {\"status\": \"none\", \"completed\": 0, \"total\": 0}";
                case "query-memdev" -> "{\"return\": []";
                case "stop" -> {
                    running = false;
                    yield "{\"return\": {}";
                }
                case "cont" -> {
                    running = true;
                    yield "{\"return\": {}";
                }
                case "human-monitor-command" -> {
                    String line = group(LINE, msg);
                    String text = "info registers -a".equals(line) ? registers : "info mtree -f".equals(line)
                            ? "FlatView #0\n AS \"memory\", root: system\n Root memory region: system\n"
                                    + "  0000000000000000-00000000000fffff (prio 0, ram): pc.ram\n" : "";
                    yield "{\"return\": \"" + text.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n")
                            + "\"";
                }
                case "pmemsave" -> {
                    long size = Long.parseLong(group(SIZE, msg));
                    try (OutputStream f = Files.newOutputStream(Path.of(group(FILE, msg)))) {
                        f.write(new byte[(int) size]);
                    }
                    yield "{\"return\": {}";
                }
                case "qmp_capabilities", "object-add", "object-del" -> "{\"return\": {}";
                default -> "{\"error\": {\"class\": \"GenericError\", \"desc\": \"not in this fake: " + cmd + "\"}";
            };
            return ret + (id == null ? "" : ", \"id\": " + id) + "}";
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }

    @Test
    void aContRefusedAfterTheDumpIsExitThreeWithTheFileAndThePausedGuestNamed() throws Exception {
        Path socket = dir.resolve("qmp.sock");
        try (Peer qemu = new Peer(socket)) {
            qemu.script = c -> c.equals("cont") ? "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Resetting "
                    + "the Virtual Machine is required\"}" : null;
            Path out = dir.resolve("vmcore");
            Dist.Run r = Dist.guestdump(dir, "dump", "qmp:" + socket, "-o", out.toString());
            assertEquals(3, r.exit(), r.err());
            assertTrue(Files.isRegularFile(out), "the dump exists");
            assertTrue(r.err().contains("the dump was written to " + out) && r.err().contains("PAUSED")
                    && r.err().contains("Resetting the Virtual Machine is required")
                    && r.err().contains("{\"execute\":\"cont\"}"), r.err());
            assertFalse(qemu.running);
            assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
        }
    }

    @Test
    void ctrlCWhileTheStopReplyIsPendingSaysWhatQemuConfirms() throws Exception {
        Path socket = dir.resolve("qmp.sock");
        try (Peer qemu = new Peer(socket)) {
            qemu.script = c -> {
                if (c.equals("stop")) {
                    qemu.running = false; // stopped, and the answer never comes
                    return "NO_REPLY";
                }
                return null;
            };
            // env --default-signal=INT: a test JVM started from a background shell inherits SIGINT ignored
            Process p = new ProcessBuilder("env", "--default-signal=INT", Dist.launcher().toString(), "dump",
                    "qmp:" + socket, "-o",
                    dir.resolve("vmcore").toString()).directory(dir.toFile()).redirectErrorStream(true)
                    .redirectOutput(dir.resolve("out.txt").toFile()).start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!qemu.log.contains("stop") && p.isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertTrue(qemu.log.contains("stop") && p.isAlive(), Files.readString(dir.resolve("out.txt")));
            new ProcessBuilder("kill", "-INT", Long.toString(p.pid())).start().waitFor();
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "guestdump did not end after SIGINT");
            String said = Files.readString(dir.resolve("out.txt"));
            assertEquals(130, p.exitValue(), said);
            assertTrue(said.contains("interrupted; the guest is running again (query-status: running)"), said);
            assertTrue(qemu.running, "resumed: " + qemu.log);
            assertFalse(Files.exists(dir.resolve("vmcore")));
        }
    }
}
