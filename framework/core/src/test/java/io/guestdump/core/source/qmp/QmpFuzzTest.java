package io.guestdump.core.source.qmp;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.guestdump.arch.api.GuestDumpException;
import io.guestdump.core.DumpRequest;
import io.guestdump.core.GuestDump;
import io.guestdump.core.GuestLeftPausedException;
import io.guestdump.core.config.ConfigLoader;
import io.guestdump.core.config.DumpSettings;
import io.guestdump.core.plugins.ArchitectureRegistry;
import io.guestdump.core.vmcore.ProgressListener;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every QMP command guestdump sends, answered by {@link FakeQemu} with every hostile shape: a reply of unbounded
 * size, 200,000 nested arrays, a foreign id, no id, text that is not JSON, a reply of the wrong type, an error
 * that is not an object, no reply at all, and a hang-up. Each case must end within {@link #CASE_TIMEOUT} in a dump
 * or a {@link GuestDumpException} (never another exception: exit 70), leave no {@code .partial}, and never lie:
 * when guestdump stopped the guest, the guest runs again or the error says it is PAUSED.
 */
class QmpFuzzTest {
    private static final Duration CASE_TIMEOUT = Duration.ofSeconds(30);
    private static final List<String> COMMANDS = List.of("qmp_capabilities", "query-target", "query-status",
            "object-add", "query-dump", "query-migrate", "stop", "qom-get", "human-monitor-command", "query-memdev",
            "pmemsave", "dump-guest-memory", "cont", "object-del");
    private static final Map<String, Function<Map<String, Object>, Object>> SHAPES = new TreeMap<>(Map.of(
            "unbounded string", a -> new FakeQemu.Raw("{\"return\": \"" + "A".repeat(2 << 20)),
            "200k nested arrays", a -> new FakeQemu.Raw("{\"return\": " + "[".repeat(200_000)),
            "foreign id", a -> new FakeQemu.Raw("{\"return\": {}, \"id\": \"libvirt-7\"}\r\n"),
            "no id", a -> new FakeQemu.Raw("{\"return\": {}}\r\n"),
            "not JSON", a -> new FakeQemu.Raw("(qemu) \r\n"),
            "wrong type", a -> List.of(1, "two", Map.of()),
            "null", a -> null,
            "error not an object", a -> new FakeQemu.Raw("{\"error\": \"oops\", \"id\": \"guestdump-1\"}\r\n"),
            "no reply", a -> FakeQemu.NO_REPLY,
            "hang up", a -> FakeQemu.HANG_UP));

    @TempDir
    static Path dir;

    static final Map<String, Integer> OUTCOMES = new TreeMap<>();
    static int cases;

    @AfterAll
    static void report() {
        System.err.println("QmpFuzzTest: " + cases + " hostile QMP peers: " + OUTCOMES);
    }

    @TestFactory
    List<DynamicTest> everyCommandAnsweredWithEveryHostileShapeEndsCleanly() {
        List<DynamicTest> tests = new ArrayList<>();
        for (String command : COMMANDS) {
            for (Map.Entry<String, Function<Map<String, Object>, Object>> shape : SHAPES.entrySet()) {
                tests.add(DynamicTest.dynamicTest(command + " → " + shape.getKey(),
                        () -> assertTimeoutPreemptively(CASE_TIMEOUT, () -> run(command, shape.getKey(),
                                shape.getValue()), () -> "hang: " + command + " → " + shape.getKey())));
            }
        }
        return tests;
    }

    private static synchronized void outcome(String o) {
        OUTCOMES.merge(o, 1, Integer::sum);
        cases++;
    }

    private void run(String command, String shapeName, Function<Map<String, Object>, Object> shape)
            throws IOException {
        Path caseDir = Files.createTempDirectory(dir, "case");
        Path socket = caseDir.resolve("qmp.sock");
        Files.createDirectories(caseDir.resolve("work"));
        Path out = caseDir.resolve("vmcore");
        try (FakeQemu qemu = new FakeQemu(socket);
                ArchitectureRegistry registry = ArchitectureRegistry.load(List.of(), List.of(),
                        com.typesafe.config.ConfigFactory.empty())) {
            qemu.overrides.put(command, args -> {
                qemu.overrides.remove(command); // once: the cleanup that follows gets sane answers
                if (command.equals("stop")) {
                    qemu.running = false;
                }
                return shape.apply(args);
            });
            var user = ConfigLoader.userLayers(null, List.of(), Map.of(
                    "guestdump.source.qmp.greeting-timeout", "1s",
                    "guestdump.source.qmp.command-timeout", "1s",
                    "guestdump.source.qmp.pmemsave-stall-timeout", "300ms",
                    "guestdump.source.qmp.max-message-size", "1 MiB",
                    "guestdump.source.qmp.work-dir", caseDir.resolve("work").toString(),
                    "guestdump.output.fsync", "false"));
            GuestDump dump = new GuestDump(DumpSettings.from(ConfigLoader.withReference(user,
                    getClass().getClassLoader()), caseDir, caseDir), registry);
            String said = "";
            String result;
            try {
                dump.dump(new DumpRequest(Optional.of("qmp:" + socket), out.toString(), Optional.empty(),
                        Optional.empty(), false), ProgressListener.NONE);
                result = "dumped";
            } catch (GuestDumpException e) {
                said = e.getMessage() + " " + Stream.of(e.getSuppressed()).map(Throwable::getMessage).toList();
                boolean paused = e instanceof GuestLeftPausedException || Stream.of(e.getSuppressed())
                        .anyMatch(GuestLeftPausedException.class::isInstance);
                result = paused ? "failed, guest left paused and said so" : "failed";
                assertFalse(e.getMessage() == null || e.getMessage().contains("\n"), command + " → " + shapeName
                        + ": " + e.getMessage());
            } catch (RuntimeException | Error e) {
                fail(command + " → " + shapeName + ": " + e + " would be exit 70", e);
                return;
            }
            outcome(result);
            boolean stoppedByUs = qemu.log.contains("stop");
            if (stoppedByUs) {
                assertTrue(qemu.running || said.contains("PAUSED"), command + " → " + shapeName
                        + ": the guest guestdump stopped is paused and nobody said so: " + said + " " + qemu.log);
            }
            // an object-del answered "ok" that kept the object is a lie guestdump cannot see
            boolean lyingUnlock = command.equals("object-del") && List.of("null", "wrong type").contains(shapeName);
            if (qemu.lockExists && !lyingUnlock) {
                assertTrue(said.contains("object-del"), command + " → " + shapeName + ": the lock stays and nobody "
                        + "said so: " + said);
            }
            try (Stream<Path> s = Files.list(caseDir)) {
                assertTrue(s.noneMatch(p -> p.getFileName().toString().endsWith(".partial")), "no .partial");
            }
        }
    }
}
