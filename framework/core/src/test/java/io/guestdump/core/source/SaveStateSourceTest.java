package io.guestdump.core.source;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.arch.api.VcpuState;
import io.guestdump.memory.GuestBlock;
import io.guestdump.memory.GuestMemory;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link SaveStateSource} on streams built byte by byte ({@link TestMigration}): memory, vCPUs and refusals. */
class SaveStateSourceTest {
    @TempDir
    Path dir;

    private LoadedGuest open(byte[] bytes) throws IOException {
        Path p = dir.resolve("state.mig");
        Files.write(p, bytes);
        return new SaveStateSource(p).open(List.of(TestMigration.TOY));
    }

    @Test
    void everyPageAndRegisterOfATypicalStream() throws IOException {
        TestMigration m = TestMigration.typical();
        try (LoadedGuest g = open(m.finish())) {
            GuestMemory mem = g.state().memory();
            assertEquals(2, mem.blocks().size());
            byte[] ram = new byte[(int) TestMigration.RAM_SIZE];
            mem.read(TestMigration.RAM_BASE, ByteBuffer.wrap(ram));
            assertArrayEquals(m.ram, ram, "pages, zero pages, a 0x5a fill, never-sent pages as zeros, resent page");
            assertEquals(0x5a, ram[3 * TestMigration.PAGE + 17]);
            assertArrayEquals(TestMigration.pattern(9), Arrays.copyOfRange(ram, 2 * TestMigration.PAGE,
                    3 * TestMigration.PAGE), "the later copy of a page wins");
            byte[] rom = new byte[(int) TestMigration.ROM_SIZE];
            mem.read(TestMigration.ROM_BASE, ByteBuffer.wrap(rom));
            assertArrayEquals(m.rom, rom);
            // transferTo gives the same bytes as read
            ByteArrayOutputStream copy = new ByteArrayOutputStream();
            GuestBlock b = mem.blockAt(TestMigration.RAM_BASE);
            b.data().transferTo(100, TestMigration.RAM_SIZE - 100, Channels.newChannel(copy));
            assertArrayEquals(Arrays.copyOfRange(m.ram, 100, m.ram.length), copy.toByteArray());

            List<VcpuState> cpus = g.state().cpus();
            assertEquals(2, cpus.size());
            assertEquals(0xffff0000_00001000L, cpus.get(0).u64("pc"));
            assertEquals(0x1003, cpus.get(1).u64("r3"));
            assertEquals(0xb001, cpus.get(1).u64("seg1.base"), "struct array element fields are named a[i].f");
            assertEquals(0xbeef, cpus.get(0).u64("extra"), "subsection fields are read, also as subsection:field");
            assertEquals(1, cpus.get(0).u64("extra.version"), "the subsection's version, from its header");
            assertEquals("toy-1.0", g.state().properties().get("machine-type"));
        }
    }

    @Test
    void configurationPageBitsAndLibvirtHeader() throws IOException {
        TestMigration m = new TestMigration().header("toy-2.0", true).ramSetup(1);
        m.u8(0x03).u32(1).page("toy.ram", 0, false, TestMigration.pattern(7)).u64(0x10).footer(1);
        m.cpu(2, 0, 0x42);
        byte[] stream = m.finish();
        byte[] xml = "<domain><name>toy</name></domain>\0".getBytes(StandardCharsets.UTF_8);
        ByteBuffer h = ByteBuffer.allocate(SaveStateSource.LIBVIRT_HEADER_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        h.put(SaveStateSource.LIBVIRT_MAGIC.getBytes(StandardCharsets.ISO_8859_1)).putInt(2).putInt(xml.length)
                .putInt(1).putInt(0).putInt(0);
        ByteArrayOutputStream file = new ByteArrayOutputStream();
        file.writeBytes(h.array());
        file.writeBytes(xml);
        file.writeBytes(stream);
        try (LoadedGuest g = open(file.toByteArray())) {
            byte[] page = new byte[TestMigration.PAGE];
            g.state().memory().read(TestMigration.RAM_BASE, ByteBuffer.wrap(page));
            assertArrayEquals(TestMigration.pattern(7), page);
            assertEquals(0x42, g.state().firstCpu().u64("pc"));
        }
        byte[] gz = file.toByteArray();
        gz[28] = 1;
        assertTrue(refusal(gz).contains("gzip-compressed"), refusal(gz));
        byte[] partial = file.toByteArray();
        System.arraycopy(SaveStateSource.LIBVIRT_PARTIAL.getBytes(StandardCharsets.ISO_8859_1), 0, partial, 0, 16);
        assertTrue(refusal(partial).contains("did not finish"), refusal(partial));
    }

    @Test
    void badStreamsAreRefusedNamingTheSpot() throws IOException {
        byte[] good = TestMigration.typical().finish();
        // truncated anywhere before the end
        for (int cut : new int[] {3, 9, 40, 200, good.length / 2, good.length - 30}) {
            String why = refusal(Arrays.copyOf(good, cut));
            assertTrue(why.contains("truncated") || why.contains("no JSON description") || why.contains("not in the")
                    || why.contains("corrupt") || why.contains("no \"ram\"") || why.contains("QEMU_VM_EOF")
                    || why.contains("page size"),
                    cut + ": " + why);
        }
        byte[] version = good.clone();
        version[7] = 4;
        assertTrue(refusal(version).contains("version 4"), refusal(version));
        byte[] magic = good.clone();
        magic[0] = 'X';
        assertTrue(refusal(magic).contains("magic"), refusal(magic));

        TestMigration unknown = new TestMigration().header("toy-1.0", false).ramSetup(1);
        unknown.u8(0x33);
        assertTrue(refusal(unknown.finish()).contains("unknown section type 0x33"), refusal(unknown.finish()));

        TestMigration xbzrle = new TestMigration().header("toy-1.0", false).ramSetup(1);
        xbzrle.u8(0x02).u32(1).u64(0x40).str("toy.ram");
        assertTrue(refusal(xbzrle.finish()).contains("XBZRLE"), refusal(xbzrle.finish()));

        TestMigration flags = new TestMigration().header("toy-1.0", false).ramSetup(1);
        flags.u8(0x02).u32(1).u64(0x200).str("toy.ram");
        assertTrue(refusal(flags.finish()).contains("unknown flags 0x200"), refusal(flags.finish()));

        TestMigration block = new TestMigration().header("toy-1.0", false).ramSetup(1);
        block.u8(0x02).u32(1).u64(0x08).str("nope");
        assertTrue(refusal(block.finish()).contains("\"nope\""), refusal(block.finish()));

        TestMigration beyond = new TestMigration().header("toy-1.0", false).ramSetup(1);
        beyond.u8(0x02).u32(1).u64(TestMigration.RAM_SIZE | 0x02).str("toy.ram").u8(0);
        assertTrue(refusal(beyond.finish()).contains("offset 0x10000"), refusal(beyond.finish()));

        TestMigration iterative = new TestMigration().header("toy-1.0", false).ramSetup(1);
        iterative.sectionStart(0x01, 2, "other/keys", 0, 1);
        assertTrue(refusal(iterative.finish()).contains("iterative section other/keys"),
                refusal(iterative.finish()));

        TestMigration sub = new TestMigration().header("toy-1.0", false);
        sub.u8(0x05).str("configuration/whatever").u32(1);
        assertTrue(refusal(sub.finish()).contains("configuration/whatever"), refusal(sub.finish()));

        TestMigration huge = new TestMigration().header("toy-1.0", false);
        huge.sectionStart(0x01, 1, "ram", 0, 4).u64(0x7fff_ffff_ffff_f000L | 0x04).str("toy.ram")
                .u64(0x7fff_ffff_ffff_f000L);
        assertTrue(refusal(huge.finish()).contains("indexes at most"), refusal(huge.finish()));

        TestMigration nodesc = new TestMigration().header("toy-1.0", true).ramSetup(1).timer(2);
        byte[] noJson = nodesc.finish();
        int end = noJson.length;
        while (noJson[end - 1] != 0x06 || end > noJson.length - 5) {
            end--;
        }
        assertTrue(refusal(Arrays.copyOf(noJson, end - 1)).contains("no JSON description"),
                refusal(Arrays.copyOf(noJson, end - 1)));
    }

    @Test
    void aDeviceTheDescriptionGetsWrongIsSteppedOverByItsFooter() throws IOException {
        TestMigration m = new TestMigration().header("toy-1.0", true).ramSetup(1);
        m.u8(0x03).u32(1).page("toy.ram", 0, false, TestMigration.pattern(3)).u64(0x10).footer(1);
        m.timer(2); // described as 3 bytes
        m.sectionStart(0x04, 3, "timer", 1, 2).raw(new byte[] {0x7e, 0, 0, 0, 3, 5, 5}).footer(3);
        m.cpu(4, 0, 0x77);
        byte[] bytes = m.finish();
        // the second timer's description says 3 bytes; it holds 7 (with a false footer inside): make its JSON entry
        String json = new String(bytes, StandardCharsets.ISO_8859_1).replace("\"name\": \"cpu\", \"instance_id\": 0",
                "\"name\": \"timer\", \"instance_id\": 1, \"vmsd_name\": \"timer\", \"fields\": [{\"name\": \"a\", "
                + "\"type\": \"uint16\", \"size\": 2}]}, {\"name\": \"cpu\", \"instance_id\": 0");
        byte[] patched = json.getBytes(StandardCharsets.ISO_8859_1);
        int desc = json.lastIndexOf('\u0006');
        ByteBuffer.wrap(patched).order(ByteOrder.BIG_ENDIAN).putInt(desc + 1, patched.length - desc - 5);
        try (LoadedGuest g = open(patched)) {
            assertEquals(0x77, g.state().firstCpu().u64("pc"));
        }
    }

    @Test
    void recognisedByContent() throws IOException {
        Path p = dir.resolve("saved");
        Files.write(p, TestMigration.typical().finish());
        assertInstanceOf(SaveStateSource.class, SourceSpec.parse(p.toString()));
        assertInstanceOf(SaveStateSource.class, SourceSpec.parse("savestate:" + p));
    }

    private String refusal(byte[] bytes) throws IOException {
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> open(bytes).close());
        return e.getMessage();
    }
}
