package io.guestdump.core.source;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigValue;
import io.guestdump.arch.api.InvalidInputException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 15: a snapshot of 100,000 one-page blocks took 740 MiB of RSS, about 2.5 KiB a block of HOCON parse tree.
 * The {@code memory} list is now kept as text (three ints a block) and each block parsed alone when it is read;
 * these tests show the compact structure and that it means exactly what HOCON means.
 */
class SnapshotLeanListTest {
    @TempDir
    Path dir;

    private Path write(String text) throws IOException {
        Path p = dir.resolve("g.conf");
        Files.writeString(p, text);
        return p;
    }

    private static String blocks(int n) {
        StringBuilder sb = new StringBuilder("guest {\n  arch = toy64\n  memory = [\n");
        for (int i = 0; i < n; i++) {
            sb.append("    { start = ").append(i * 8192L).append(", size = 4096, file = ram.bin, file-offset = ")
                    .append(i * 4096L).append(" }\n");
        }
        return sb.append("  ]\n}\n").toString();
    }

    @Test
    void aLongPlainListIsKeptAsTextWithThreeIntsABlockNotAsParsedObjects() throws IOException {
        int n = 50_000;
        Path file = write(blocks(n));
        SnapshotParser.Parsed parsed = SnapshotParser.parse(file);
        ConfigValue memory = parsed.root().getValue("guest.memory");
        LeanList list = parsed.list(memory);
        assertNotNull(list, "guest.memory was parsed into " + memory.valueType() + ", not kept as text");
        assertEquals(n, list.size());
        // the parsed root holds one string where the list was, not n objects
        assertEquals(1, parsed.lists().size());
        assertEquals(list.marker(), memory.unwrapped());
        for (int i : new int[] {0, 1, n / 2, n - 1}) {
            Config b = list.element(i, file);
            assertEquals(i * 8192L, b.getLong("start"));
            assertEquals(4096, b.getLong("size"));
            assertEquals("ram.bin", b.getString("file"));
            assertEquals(i * 4096L, b.getLong("file-offset"));
            assertEquals(4 + i, list.line(i), "block " + i + " is on line " + (4 + i));
        }
        // lines after the list keep their numbers
        assertEquals(2, parsed.root().getValue("guest.arch").origin().lineNumber());
    }

    @Test
    void aLongListOfVcpusIsKeptAsTextToo() throws IOException {
        int n = 50_000;
        Path file = write("guest {\n  arch = toy64\n  cpus = [\n" + "    { pc = 4096, sp { lo = 1 } }\n".repeat(n)
                + "  ]\n  memory = [ { start = 0, size = 4096, file = ram.bin } ]\n}\n");
        SnapshotParser.Parsed parsed = SnapshotParser.parse(file);
        LeanList cpus = parsed.list(parsed.root().getValue("guest.cpus"));
        assertNotNull(cpus);
        assertEquals(n, cpus.size());
        assertEquals(4096, cpus.element(n - 1, file).getLong("pc"));
        assertEquals(1, cpus.element(n - 1, file).getLong("sp.lo"));
        assertEquals(n + 5, parsed.root().getValue("guest.memory").origin().lineNumber());
        assertNotNull(parsed.list(parsed.root().getValue("guest.memory")));
    }

    /** Each case: the lean reader's blocks are HOCON's blocks, one by one (Config equality ignores origins). */
    @Test
    void theLeanReaderMeansWhatHoconMeans() throws IOException {
        List<String> lists = List.of(
                "memory = [ { start = 0, size = 4096, file = ram.bin } ]",
                "memory: [{start: \"0x1000\", size: \"4 KiB\", file: \"ram.bin\", \"file-offset\": 0x10}]",
                "\"memory\" = [\n  # a comment\n  { start = 0, size = 4096, file = ram.bin }, // another\n"
                        + "  { start = 8192, size = 4096, file = \"a b.bin\", name = \"x]}{\" },\n]",
                "memory = [ { start = 0\n size = 4096\n file = ram.bin } { start = 8192, size = 1, file = r } ]",
                "memory = [\n{ start = 0, size = 4096, file = ram.bin, nested { a = [1, {b = 2}] } }\n\n,\n"
                        + "{ start = 1, size = \"0x_1000\", file = ram.bin }\n]");
        for (String memory : lists) {
            String text = "guest {\n  arch = toy64\n  " + memory + "\n  cpu-state-from = regs.txt\n}\n";
            Path file = write(text);
            SnapshotParser.Parsed parsed = SnapshotParser.parse(file);
            List<? extends ConfigObject> hocon = ConfigFactory.parseString(text).getObjectList("guest.memory");
            LeanList list = parsed.list(parsed.root().getValue("guest.memory"));
            if (list == null) {
                // a list the lean reader leaves to HOCON (elements not separated): parsed as before
                assertEquals(hocon, parsed.root().getObjectList("guest.memory"), memory);
                continue;
            }
            assertEquals(hocon.size(), list.size(), memory);
            for (int i = 0; i < list.size(); i++) {
                assertEquals(hocon.get(i).toConfig(), list.element(i, file), memory + " [" + i + "]");
                assertEquals(hocon.get(i).origin().lineNumber(), list.line(i), memory + " [" + i + "] line");
            }
            assertEquals(ConfigFactory.parseString(text).getString("guest.cpu-state-from"),
                    parsed.root().getString("guest.cpu-state-from"));
        }
    }

    /** Lists whose meaning depends on more than their own text go to the general parser, which decides. */
    @Test
    void concatenatedOverriddenOrSubstitutedListsAreLeftToHocon() throws IOException {
        String a = "{ start = 0, size = 4096, file = ram.bin }";
        String b = "{ start = 8192, size = 4096, file = ram.bin }";
        List<String> texts = List.of(
                "guest { arch = toy64\n memory = [ " + a + " ] [ " + b + " ]\n}",
                "guest { arch = toy64\n memory = [ " + a + " ]\n memory += " + b + "\n}",
                "guest { arch = toy64\n memory = [ " + a + " ]\n}\nguest.memory = ${extra}\nextra = [ " + b + " ]",
                "base { memory = [ " + a + ", " + b + " ] }\nguest = ${base} { arch = toy64 }",
                "guest { arch = toy64\n memory = [ " + a + " ] ${?nothing}\n}",
                "guest { arch = toy64\n memory = [ { start = ${s}, size = 4096, file = ram.bin } ]\n}\ns = 5");
        for (String text : texts) {
            SnapshotParser.Parsed parsed = SnapshotParser.parse(write(text));
            List<? extends ConfigObject> hocon = ConfigFactory.parseString(text).resolve()
                    .getObjectList("guest.memory");
            LeanList list = parsed.list(parsed.root().getValue("guest.memory"));
            if (list == null) {
                assertEquals(hocon, parsed.root().getObjectList("guest.memory"), text);
            } else {
                assertEquals(hocon.size(), list.size(), text);
                for (int i = 0; i < list.size(); i++) {
                    assertEquals(hocon.get(i).toConfig(), list.element(i, dir.resolve("g.conf")), text);
                }
            }
        }
        // a marker-looking string in a snapshot is just a string
        SnapshotParser.Parsed fake = SnapshotParser.parse(write(
                "guest { arch = toy64, memory = \"guestdump-memory-list-000000000000000000000000\" }"));
        assertNull(fake.list(fake.root().getValue("guest.memory")));
    }

    @Test
    void aSyntaxErrorInOneBlockNamesItsLineAndIndex() throws IOException {
        Path file = write(blocks(3).replace("    { start = 8192, size = 4096,", "    { start = 8192, size = = 4096,"));
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> {
            SnapshotParser.Parsed parsed = SnapshotParser.parse(file);
            LeanList list = parsed.list(parsed.root().getValue("guest.memory"));
            assertNotNull(list);
            for (int i = 0; i < list.size(); i++) {
                list.element(i, file);
            }
        });
        assertTrue(e.getMessage().contains("g.conf:5: guest.memory[1] is not valid HOCON"), e.getMessage());
    }
}
