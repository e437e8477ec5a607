package io.guestdump.core.source.qmp;

import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A QMP connection over a unix socket: the greeting, {@code qmp_capabilities}, then commands tagged with an
 * {@code id} so that replies find their caller while events arrive in between. A reader thread parses the
 * stream; commands may be sent from any thread (a shutdown hook resumes the guest while the main thread still
 * waits on {@code pmemsave}).
 */
final class QmpClient implements AutoCloseable {
    private final Path socket;
    private final SocketChannel channel;
    private final Map<String, CompletableFuture<Object>> pending = new ConcurrentHashMap<>();
    private final BlockingQueue<Map<String, Object>> greeting = new LinkedBlockingQueue<>();
    private final List<Map<String, Object>> events = new ArrayList<>();
    private final AtomicLong ids = new AtomicLong();
    private final AtomicLong resumes = new AtomicLong();
    /** Events kept (the newest); a peer that floods events costs no more memory than this. */
    private static final int MAX_EVENTS = 256;
    private final Thread reader;
    private volatile String lostReason;
    private volatile String notJson;
    private volatile boolean closing;
    private volatile boolean greeted;

    private final long maxMessage;

    private QmpClient(Path socket, SocketChannel channel, long maxMessage) {
        this.socket = socket;
        this.channel = channel;
        this.maxMessage = maxMessage;
        this.reader = new Thread(this::readLoop, "guestdump-qmp-reader");
        reader.setDaemon(true);
        reader.start();
    }

    /**
     * Connects, waits for the greeting and leaves capabilities negotiation mode.
     *
     * @throws QmpException.NotQmp when the socket is no QMP monitor (no greeting, or other text)
     */
    static QmpClient connect(Path socket, Duration greetingTimeout, Duration commandTimeout, long maxMessage)
            throws IOException {
        SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(socket));
        QmpClient c = new QmpClient(socket, ch, maxMessage);
        try {
            Map<String, Object> hello = c.greeting.poll(greetingTimeout.toMillis(), TimeUnit.MILLISECONDS);
            if (hello == null || !hello.containsKey("QMP")) {
                String why = c.notJson != null ? "it sent '" + c.notJson + "'"
                        : c.lostReason != null ? "it closed the connection (" + c.lostReason + ")"
                        : "it sent no QMP greeting within " + greetingTimeout.toMillis() / 1000.0 + " s";
                throw new QmpException.NotQmp(socket + " is not a QMP monitor socket: " + why + ". Give the path "
                        + "of QEMU's -qmp unix:PATH,server=on,wait=off socket. QEMU serves one client per QMP "
                        + "socket: if another client (another guestdump, libvirt) is connected, wait for it or add "
                        + "a second -qmp socket.");
            }
            c.execute("qmp_capabilities", Map.of(), commandTimeout);
            return c;
        } catch (InterruptedException e) {
            c.close();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for the QMP greeting", e);
        } catch (IOException | RuntimeException e) {
            c.close();
            throw e;
        }
    }

    /** The socket path. */
    Path socket() {
        return socket;
    }

    /** Sends a command and waits for its reply's {@code return} value. */
    Object execute(String command, Map<String, Object> arguments, Duration timeout) throws IOException {
        CompletableFuture<Object> reply = send(command, arguments);
        try {
            return reply.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new IOException("QMP command " + command + " got no reply within " + timeout.toSeconds()
                    + " s from " + socket);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for QMP command " + command, e);
        } catch (ExecutionException e) {
            throw unwrap(e);
        }
    }

    private static IOException unwrap(ExecutionException e) {
        Throwable c = e.getCause();
        if (c instanceof RuntimeException r) {
            throw r;
        }
        return c instanceof IOException io ? io : new IOException(c);
    }

    /** Sends a command; the future completes with its {@code return} value or a {@link QmpException}. */
    CompletableFuture<Object> send(String command, Map<String, Object> arguments) throws IOException {
        String id = "guestdump-" + ids.incrementAndGet();
        CompletableFuture<Object> f = new CompletableFuture<>();
        f.exceptionally(t -> null); // replies nobody waits for (after a shutdown) are no error
        Map<String, Object> msg = new LinkedHashMap<>();
        msg.put("execute", command);
        if (!arguments.isEmpty()) {
            msg.put("arguments", arguments);
        }
        msg.put("id", id);
        if (lostReason != null) {
            throw lost();
        }
        pending.put(id, f);
        ByteBuffer buf = ByteBuffer.wrap((Json.write(msg) + "\n").getBytes(StandardCharsets.UTF_8));
        synchronized (channel) {
            try {
                while (buf.hasRemaining()) {
                    channel.write(buf);
                }
            } catch (IOException e) {
                pending.remove(id);
                connectionLost(e.getMessage());
                throw lost();
            }
        }
        return f;
    }

    /** Whether the connection has been lost (not closed by us). */
    boolean isLost() {
        return lostReason != null && !closing;
    }

    /** How many {@code RESUME} events have arrived (the guest started running) since the connection was made. */
    long resumeEvents() {
        return resumes.get();
    }

    /**
     * A {@code STOP} or {@code RESUME} event: its order among all events received and QEMU's timestamp.
     *
     * @param seq    how many events came before it on this connection
     * @param name   {@code STOP} or {@code RESUME}
     * @param micros QEMU's {@code timestamp} (seconds and microseconds of the host clock) in microseconds, or -1
     */
    record RunStateEvent(long seq, String name, long micros) {}

    private final List<RunStateEvent> runStates = new ArrayList<>();
    private final AtomicLong eventCount = new AtomicLong();

    /** How many events have arrived on this connection: a mark for {@link #runStateEvents(long)}. */
    long eventMark() {
        return eventCount.get();
    }

    /** The {@code STOP} and {@code RESUME} events that arrived after {@code mark} (the newest 64 kept), oldest first. */
    List<RunStateEvent> runStateEvents(long mark) {
        synchronized (runStates) {
            return runStates.stream().filter(e -> e.seq() >= mark).toList();
        }
    }

    /** The newest events received ({@code DUMP_COMPLETED}, {@code STOP}, ...), oldest first. */
    List<Map<String, Object>> events() {
        synchronized (events) {
            return List.copyOf(events);
        }
    }

    private QmpException.ConnectionLost lost() {
        return new QmpException.ConnectionLost("the QMP connection to " + socket + " was lost (" + lostReason + ")");
    }

    private void readLoop() {
        JsonFramer framer = new JsonFramer(maxMessage);
        ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
        try {
            while (true) {
                buf.clear();
                int n = channel.read(buf);
                if (n < 0) {
                    connectionLost("QEMU closed the socket");
                    return;
                }
                buf.flip();
                for (String message : framer.feed(buf)) {
                    dispatch(message);
                    if (lostReason != null) {
                        return;
                    }
                }
                if (framer.overflow() != null) {
                    protocolError(framer.overflow());
                    return;
                }
                if (framer.garbage() != null && notJson == null) {
                    notJson = framer.garbage();
                    connectionLost("it is not JSON");
                    return;
                }
            }
        } catch (IOException e) {
            connectionLost(closing ? "closed" : e.getMessage());
        }
    }

    @SuppressWarnings("unchecked")
    private void dispatch(String message) {
        Object parsed;
        try {
            parsed = Json.parse(message);
        } catch (IllegalArgumentException e) {
            if (greeting.isEmpty() && !greeted) {
                notJson = message.length() > 80 ? message.substring(0, 80) + "…" : message;
                return;
            }
            protocolError("QEMU sent a message that is not valid JSON: " + e.getMessage());
            return;
        }
        if (!(parsed instanceof Map)) {
            return;
        }
        Map<String, Object> m = (Map<String, Object>) parsed;
        if (m.containsKey("QMP")) {
            greeted = true;
            greeting.add(m);
        } else if (m.containsKey("event")) {
            long seq = eventCount.getAndIncrement();
            if ("RESUME".equals(m.get("event"))) {
                resumes.incrementAndGet();
            }
            if ("RESUME".equals(m.get("event")) || "STOP".equals(m.get("event"))) {
                long micros = -1;
                if (m.get("timestamp") instanceof Map<?, ?> t && t.get("seconds") instanceof Number sec
                        && t.get("microseconds") instanceof Number us) {
                    micros = sec.longValue() * 1_000_000L + us.longValue();
                }
                synchronized (runStates) {
                    if (runStates.size() >= 64) {
                        runStates.remove(0);
                    }
                    runStates.add(new RunStateEvent(seq, (String) m.get("event"), micros));
                }
            }
            synchronized (events) {
                if (events.size() >= MAX_EVENTS) {
                    events.remove(0);
                }
                events.add(m);
            }
        } else if (m.containsKey("return") || m.containsKey("error")) {
            // every command carries an id; a reply without one, or with one we never sent, answers something else
            // (another client's command, or a message QEMU could not parse): the stream cannot be trusted
            Object id = m.get("id");
            CompletableFuture<Object> f = id instanceof String s ? pending.remove(s) : null;
            if (f == null) {
                String shown = message.length() > 120 ? message.substring(0, 120) + "…" : message;
                protocolError(id == null ? "QEMU sent a reply without an id (" + shown + "); every command "
                        + "guestdump sends carries one" : "QEMU sent a reply with id " + Json.write(id) + ", which "
                        + "matches no command guestdump is waiting for (" + shown + ")");
                return;
            }
            if (m.get("error") instanceof Map<?, ?> err) {
                f.completeExceptionally(new QmpException(String.valueOf(err.get("class")),
                        String.valueOf(err.get("desc"))));
            } else if (m.containsKey("error")) {
                protocolError("QEMU sent an error reply whose 'error' is not an object: " + message);
            } else {
                f.complete(m.get("return"));
            }
        } else {
            protocolError("QEMU sent a message that is neither a reply nor an event: "
                    + (message.length() > 120 ? message.substring(0, 120) + "…" : message));
        }
    }

    /** The peer broke the protocol: everybody waiting fails, and the connection is closed. */
    private void protocolError(String reason) {
        connectionLost("protocol error: " + reason);
        try {
            channel.close();
        } catch (IOException ignored) {
            // closed either way
        }
    }

    private void connectionLost(String reason) {
        if (lostReason == null) {
            lostReason = reason == null ? "unknown error" : reason;
        }
        for (CompletableFuture<Object> f : pending.values()) {
            f.completeExceptionally(lost());
        }
        pending.clear();
    }

    @Override
    public void close() {
        closing = true;
        try {
            channel.close();
        } catch (IOException ignored) {
            // nothing to do: the socket is gone either way
        }
    }

    /** Splits a byte stream into top-level JSON objects (QEMU may pretty-print them over several lines). */
    static final class JsonFramer {
        /** The deepest nesting accepted; QMP replies nest a handful of levels. */
        static final int MAX_DEPTH = 64;
        private final StringBuilder current = new StringBuilder();
        private String overflow;
        private final long maxMessage;

        /** A framer for the fake server in tests: no practical size limit. */
        JsonFramer() {
            this(Integer.MAX_VALUE - 16);
        }

        /** A framer that refuses messages longer than {@code maxMessage} characters. */
        JsonFramer(long maxMessage) {
            this.maxMessage = Math.min(maxMessage, Integer.MAX_VALUE - 16);
        }
        private final java.nio.charset.CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder();
        private int depth;
        private boolean inString;
        private boolean escaped;
        private String garbage;

        /** Feeds bytes; returns the messages completed by them. */
        List<String> feed(ByteBuffer bytes) {
            List<String> done = new ArrayList<>();
            java.nio.CharBuffer chars = java.nio.CharBuffer.allocate(bytes.remaining() + 4);
            decoder.decode(bytes, chars, false);
            chars.flip();
            while (chars.hasRemaining() && overflow == null) {
                char c = chars.get();
                if (depth == 0 && !inString) {
                    if (c == '{') {
                        depth = 1;
                        current.setLength(0);
                        current.append(c);
                    } else if (!Character.isWhitespace(c) && garbage == null) {
                        StringBuilder g = new StringBuilder().append(c);
                        while (chars.hasRemaining() && g.length() < 60) {
                            char d = chars.get();
                            if (d == '\n' || d == '\r') {
                                break;
                            }
                            g.append(d);
                        }
                        garbage = g.toString().trim();
                    }
                    continue;
                }
                if (current.length() >= maxMessage) {
                    overflow = "QEMU sent a message longer than " + maxMessage + " bytes "
                            + "(guestdump.source.qmp.max-message-size)";
                    current.setLength(0);
                    current.trimToSize();
                    break;
                }
                current.append(c);
                if (inString) {
                    if (escaped) {
                        escaped = false;
                    } else if (c == '\\') {
                        escaped = true;
                    } else if (c == '"') {
                        inString = false;
                    }
                } else if (c == '"') {
                    inString = true;
                } else if (c == '{' || c == '[') {
                    if (++depth > MAX_DEPTH) {
                        overflow = "QEMU sent a message nested more than " + MAX_DEPTH + " levels deep";
                        current.setLength(0);
                        current.trimToSize();
                        break;
                    }
                } else if (c == '}' || c == ']') {
                    depth--;
                    if (depth == 0) {
                        done.add(current.toString());
                        current.setLength(0);
                    }
                }
            }
            return done;
        }

        /** Why the stream exceeded a bound (too long, too deep), or null. */
        String overflow() {
            return overflow;
        }

        /** The first non-JSON text seen between messages, or null. */
        String garbage() {
            return garbage;
        }
    }
}
