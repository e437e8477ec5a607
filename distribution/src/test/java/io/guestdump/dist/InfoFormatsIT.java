package io.guestdump.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 13: info reads ELF and kdump (seekable, flattened), from files and standard input; JSON schema 1. */
class InfoFormatsIT {
    @TempDir
    static Path work;

    static String elfJson;

    @BeforeAll
    static void dumps() throws Exception {
        Dist.guestdump(work, "dump", "sample:", "-o", "v.elf").expect(0);
        Dist.guestdump(work, "dump", "sample:", "--format", "kdump-zlib", "-o", "v.kdump").expect(0);
        Dist.guestdump(work, "dump", "sample:", "--format", "kdump-lzo", "--flattened", "-o", "v.flat").expect(0);
        elfJson = Dist.guestdump(work, "info", "--json", "v.elf").expect(0).out();
    }

    private static String field(String json, String name) {
        Matcher m = Pattern.compile("\"" + name + "\":(\"[^\"]*\"|[0-9]+|true|false)").matcher(json);
        assertTrue(m.find(), name + " in " + json);
        return m.group(1);
    }

    /** The registers of every vCPU: the "cpus" array as printed. */
    private static String cpus(String json) {
        int a = json.indexOf("\"cpus\":[");
        int b = json.indexOf("],\"", a);
        return json.substring(a, b);
    }

    @Test
    void elfJsonIsSchema1WithNumbersAsNumbers() {
        assertTrue(elfJson.startsWith("{\"schema\":1,\"format\":\"elf\","), elfJson);
        assertEquals("62", field(elfJson, "e_machine"));
        assertEquals("\"EM_X86_64\"", field(elfJson, "machine"));
        assertTrue(field(elfJson, "size").matches("[0-9]+"));
        assertTrue(elfJson.contains("\"vaddr\":0,") || elfJson.contains("\"vaddr\":"), elfJson);
        assertTrue(cpus(elfJson).contains("\"rip\":\"0xffffffff81001002\""), elfJson);
    }

    @Test
    void seekableAndFlattenedKdumpShowTheSameVcpusAsTheElfDump() throws Exception {
        // the sample's RAM file holds every byte of its two blocks
        long pages = Files.size(Dist.home().resolve("config/guests/sample-x86_64-ram.bin")) / 4096;
        for (String f : List.of("v.kdump", "v.flat")) {
            String json = Dist.guestdump(work, "info", "--json", f).expect(0).out();
            assertTrue(json.startsWith("{\"schema\":1,\"format\":\"kdump-"), json);
            assertEquals(f.equals("v.kdump") ? "\"seekable\"" : "\"flattened\"", field(json, "form"));
            assertEquals("62", field(json, "e_machine"));
            assertEquals("2", field(json, "nr-cpus"));
            assertEquals(String.valueOf(pages), field(json, "dumped-pages"), "zero pages are shared, all dumped");
            assertEquals(cpus(elfJson), cpus(json));
            String text = Dist.guestdump(work, "info", f).expect(0).out();
            assertTrue(text.contains("utsname machine x86_64") && text.contains("vCPUs: 2"), text);
        }
    }

    @Test
    void standardInputTakesEveryFormat() throws Exception {
        for (String f : List.of("v.elf", "v.kdump", "v.flat")) {
            Dist.Run r = Dist.run(work, Map.of(), List.of("sh", "-c",
                    "'" + Dist.launcher() + "' info --json - < " + f)).expect(0);
            assertEquals(cpus(elfJson), cpus(r.out()), f);
            assertTrue(r.out().contains("\"file\":\"-\""), r.out());
        }
        Dist.Run piped = Dist.run(work, Map.of(), List.of("sh", "-c",
                "cat v.flat | '" + Dist.launcher() + "' info -")).expect(0);
        assertTrue(piped.out().contains("kdump-lzo (flattened)"), piped.out());
    }

    @Test
    void aFileDumpElfRefusesIsExit2WithTheReason() throws Exception {
        byte[] elf = Files.readAllBytes(work.resolve("v.elf"));
        byte[] alien = elf.clone();
        alien[18] = 0x34; // e_machine = 0x1234: no plugin
        alien[19] = 0x12;
        Files.write(work.resolve("alien.elf"), alien);
        Dist.Run r = Dist.guestdump(work, "info", "alien.elf").expect(2);
        assertTrue(r.err().contains("not a vmcore guestdump can re-dump") && r.err().contains("e_machine"), r.err());

        byte[] noLoads = elf.clone();
        ByteBuffer b = ByteBuffer.wrap(noLoads).order(ByteOrder.LITTLE_ENDIAN);
        long phoff = b.getLong(32);
        int phnum = b.getShort(56) & 0xffff;
        for (int i = 0; i < phnum; i++) {
            int at = (int) phoff + i * 56;
            if (b.getInt(at) == 1) {
                b.putInt(at, 0); // PT_LOAD -> PT_NULL
            }
        }
        Files.write(work.resolve("noloads.elf"), noLoads);
        Dist.Run n = Dist.guestdump(work, "info", "--json", "noloads.elf").expect(2);
        assertTrue(n.out().contains("\"redumpable\":false"), n.out());
    }

    @Test
    void errorsAreJsonWithJsonAndArchsHasSchema1() throws Exception {
        Dist.Run r = Dist.guestdump(work, "info", "--json", "missing.vmcore").expect(2);
        assertTrue(r.out().startsWith("{\"schema\":1,\"error\":{\"exit\":2,\"message\":"), r.out());
        assertTrue(r.out().contains("missing.vmcore does not exist"), r.out());
        String archs = Dist.guestdump(work, "archs", "--json").expect(0).out();
        assertTrue(archs.startsWith("{\"schema\":1,\"plugins\":[{\"id\":"), archs);
        assertTrue(archs.contains("{\"e_machine\":62,\"name\":\"EM_X86_64\"}"), archs);
        assertFalse(archs.contains("\"EM_X86_64 (62)\""), archs);
    }
}
