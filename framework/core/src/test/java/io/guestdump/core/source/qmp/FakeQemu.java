package io.guestdump.core.source.qmp;

import java.io.IOException;
import java.io.OutputStream;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * A QMP server on a unix socket that answers like QEMU 7.2 from a script: a guest of the toy architecture with a
 * run state, a lock object, {@code info registers -a}, {@code info mtree -f}, and {@code pmemsave} that writes
 * {@link #byteAt} into the named file (a FIFO). Tests change the script through the public fields.
 */
final class FakeQemu implements AutoCloseable {
    /** The text sent on connect; {@code null} sends nothing. */
    volatile String greeting = "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 22, \"minor\": 2, \"major\": 7}, "
            + "\"package\": \"fake\"}, \"capabilities\": [\"oob\"]}}\r\n";
    volatile String status = "running";
    volatile String mtree = """
            FlatView #0
             AS "memory", root: system
             AS "cpu-memory-0", root: system
             Root memory region: system
              0000000000000000-0000000000003fff (prio 0, ram): ram0
              0000000000004000-0000000000004fff (prio 0, rom): ram0 @0000000000004000
              0000000000005000-0000000000005fff (prio 0, i/o): mmio
              0000000000010000-0000000000011fff (prio 1, ram): vram
              0000000000020000-0000000000020fff (prio 0, ramd): vfio-bar
            """;
    volatile String registers = "CPU#0\nPC=1000 SP=8000\nCPU#1\nPC=1001 SP=8001\n";
    /** Answers for commands the script does not know, or overrides; a value of Error means an error reply. */
    final Map<String, Function<Map<String, Object>, Object>> overrides = new LinkedHashMap<>();
    /** Commands received, in order (with the HMP command line for human-monitor-command). */
    final List<String> log = Collections.synchronizedList(new ArrayList<>());
    volatile boolean running;
    /** What query-chardev lists. */
    volatile List<Map<String, Object>> chardevs = List.of(Map.of("label", "serial0", "filename", "file",
            "frontend-open", true));
    /** The gdbstub started by HMP gdbserver, or null. */
    volatile FakeGdbStub gdb;
    /** Every gdbstub started, in order (its packets stay readable after it was stopped). */
    final List<FakeGdbStub> gdbStubs = Collections.synchronizedList(new ArrayList<>());
    volatile boolean lockExists;
    /**
     * Where the guest's RAM lies in this (the test's) process, for {@code query-cpus-fast} (the thread-id is this
     * process's id) and HMP {@code gpa2hva} (guest-physical P is at {@code hostBase + P}); 0: neither command exists.
     */
    volatile long hostBase;
    /** The size of every pmemsave, in order. */
    final List<Long> pmemsaveSizes = Collections.synchronizedList(new ArrayList<>());

    private final ServerSocketChannel server;
    private final Thread thread;
    private volatile SocketChannel client;

    /** An error reply. */
    record Error(String desc) {}

    /** Drop the connection instead of replying. */
    static final Object HANG_UP = new Object();
    /** Send no reply at all (the command is accepted and never answered). */
    static final Object NO_REPLY = new Object();

    /** Send this text instead of the reply (a foreign id, a huge or deeply nested message, garbage). */
    record Raw(String text) {}

    /** The lock object's data (who holds it), as object-add set it. */
    volatile String lockData;

    FakeQemu(Path socket) throws IOException {
        server = ServerSocketChannel.open(java.net.StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket));
        thread = new Thread(this::serve, "fake-qemu");
        thread.setDaemon(true);
        thread.start();
    }

    /** The byte the fake guest holds at a physical address. */
    static byte byteAt(long paddr) {
        long x = paddr * 0x9E3779B97F4A7C15L;
        return (byte) (x >>> 56 ^ paddr);
    }

    private void serve() {
        try {
            while (server.isOpen()) {
                try (SocketChannel c = server.accept()) {
                    client = c;
                    running = status.equals("running");
                    if (greeting != null) {
                        send(c, greeting);
                    }
                    QmpClient.JsonFramer framer = new QmpClient.JsonFramer();
                    ByteBuffer buf = ByteBuffer.allocate(65536);
                    boolean open = true;
                    while (open) {
                        buf.clear();
                        if (c.read(buf) < 0) {
                            break;
                        }
                        buf.flip();
                        for (String msg : framer.feed(buf)) {
                            if (!handle(c, msg)) {
                                open = false;
                                break;
                            }
                        }
                    }
                } catch (IOException e) {
                    // the client went away
                }
            }
        } catch (RuntimeException e) {
            // server closed
        }
    }

    @SuppressWarnings("unchecked")
    private boolean handle(SocketChannel c, String msg) throws IOException {
        Map<String, Object> m = (Map<String, Object>) Json.parse(msg);
        String cmd = (String) m.get("execute");
        Map<String, Object> args = (Map<String, Object>) m.getOrDefault("arguments", Map.of());
        log.add(cmd.equals("human-monitor-command") ? "hmp " + args.get("command-line") : cmd);
        Object reply;
        try {
            reply = overrides.containsKey(cmd) ? overrides.get(cmd).apply(args) : answer(cmd, args);
        } catch (IOException e) {
            reply = new Error(e.getMessage());
        }
        if (reply == HANG_UP) {
            c.close();
            return false;
        }
        if (reply == NO_REPLY) {
            return true;
        }
        if (reply instanceof Raw raw) {
            send(c, raw.text());
            return true;
        }
        Map<String, Object> r = new LinkedHashMap<>();
        if (reply instanceof Error e) {
            r.put("error", Map.of("class", "GenericError", "desc", e.desc()));
        } else {
            r.put("return", reply);
        }
        if (m.containsKey("id")) {
            r.put("id", m.get("id"));
        }
        send(c, Json.write(r) + "\r\n");
        return true;
    }

    private Object answer(String cmd, Map<String, Object> args) throws IOException {
        switch (cmd) {
            case "qmp_capabilities":
                return Map.of();
            case "query-target":
                return Map.of("arch", "toy64");
            case "query-status":
                String s = running ? "running" : status.equals("running") ? "paused" : status;
                return Map.of("status", s, "singlestep", false, "running", running);
            case "query-dump":
                return Map.of("status", "none", "completed", 0, "total", 0);
            case "query-migrate":
                return Map.of();
            case "query-memdev":
                return List.of();
            case "query-chardev":
                return chardevs;
            case "stop":
                running = false;
                return Map.of();
            case "cont":
                running = true;
                return Map.of();
            case "object-add":
                if (lockExists) {
                    return new Error("attempt to add duplicate property '" + args.get("id")
                            + "' to object (type 'container')");
                }
                lockExists = true;
                lockData = (String) args.get("data");
                return Map.of();
            case "object-del":
                if (!lockExists) {
                    return new Error("object '" + args.get("id") + "' not found");
                }
                lockExists = false;
                lockData = null;
                return Map.of();
            case "qom-get":
                if (lockExists && args.get("path").equals("/objects/guestdump-dump-lock")
                        && args.get("property").equals("data")) {
                    return lockData;
                }
                return new Error("Property '" + args.get("property") + "' not found");
            case "human-monitor-command":
                String line = (String) args.get("command-line");
                if (line.startsWith("gdbserver unix:")) {
                    gdb = new FakeGdbStub(Path.of(line.substring("gdbserver unix:".length(), line.indexOf(','))));
                    gdbStubs.add(gdb);
                    return "Waiting for gdb connection on device '" + line.substring("gdbserver ".length())
                            + "'\r\n";
                }
                if (line.startsWith("gpa2hva ") && hostBase != 0) {
                    long gpa = Long.decode(line.substring("gpa2hva ".length()));
                    return "Host virtual address for 0x" + Long.toHexString(gpa) + " (ram0) is 0x"
                            + Long.toHexString(hostBase + gpa) + "\r\n";
                }
                if (line.equals("gdbserver none") && gdb != null) {
                    gdb.close();
                    gdb = null;
                    return "Disabled gdbserver\r\n";
                }
                return switch (line) {
                    case "info registers -a" -> registers;
                    case "info mtree -f" -> mtree;
                    default -> "unknown command: '" + line + "'\r\n";
                };
            case "query-cpus-fast":
                if (hostBase == 0) {
                    return new Error("The command " + cmd + " has not been found");
                }
                return List.of(Map.of("cpu-index", 0, "thread-id", ProcessHandle.current().pid(), "target", "toy64"));
            case "pmemsave":
                long val = ((Number) args.get("val")).longValue();
                long size = ((Number) args.get("size")).longValue();
                pmemsaveSizes.add(size);
                try (OutputStream out = Files.newOutputStream(Path.of((String) args.get("filename")))) {
                    byte[] chunk = new byte[1024];
                    for (long done = 0; done < size; ) {
                        int n = (int) Math.min(chunk.length, size - done);
                        for (int i = 0; i < n; i++) {
                            chunk[i] = byteAt(val + done + i);
                        }
                        out.write(chunk, 0, n);
                        done += n;
                    }
                }
                return Map.of();
            case "dump-guest-memory":
                return new Error("dumping guest memory is not supported on this target");
            default:
                return new Error("The command " + cmd + " has not been found");
        }
    }

    /** Sends text to the connected client now (an event, say), between or during replies. */
    void push(String text) throws IOException {
        send(client, text);
    }

    /** An event as QEMU sends it. */
    static String event(String name) {
        return "{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, \"event\": \"" + name + "\"}\r\n";
    }

    private static void send(SocketChannel c, String text) throws IOException {
        synchronized (c) {
            OutputStream out = Channels.newOutputStream(c);
            out.write(text.getBytes(StandardCharsets.UTF_8));
            out.flush();
        }
    }

    /** Accepts no new connection (QEMU gone, or its socket removed); the current one stays. */
    void refuseNewClients() {
        try {
            server.close();
        } catch (IOException ignored) {
            // closed either way
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        SocketChannel c = client;
        if (c != null) {
            c.close();
        }
    }
}
