package io.guestdump.core.source.qmp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.testkit.GoldenFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The blocks QEMU 7.2 dumped for the golden guests, found again in their {@code info mtree -f} text. */
class FlatViewTest {

    private static List<String> blocks(String arch) throws IOException {
        String text = Files.readString(GoldenFiles.require(arch, "info-mtree-f.txt"));
        return FlatView.blocks(FlatView.systemSections(text, arch)).stream()
                .map(b -> b.range() + " " + b.region() + " @" + Long.toHexString(b.offset())).toList();
    }

    @Test
    void x86PcMergesThePamPiecesAndKeepsVramAndBios() throws IOException {
        // lab notes §6: 0–0x9ffff pc.ram, 0xc0000–0x1fffffff pc.ram, vga.vram, pc.bios; not the cpu-smm view
        List<String> b = blocks("x86_64");
        assertEquals(4, b.size(), b.toString());
        assertTrue(b.get(0).endsWith("pc.ram @0") && b.get(1).endsWith("pc.ram @c0000")
                && b.get(2).contains("vga.vram") && b.get(3).contains("pc.bios"), b.toString());
        assertEquals(List.of(0x0L, 0xc0000L, 0xfd000000L, 0xfffc0000L),
                FlatView.blocks(FlatView.systemSections(Files.readString(GoldenFiles.require("x86_64",
                        "info-mtree-f.txt")), "x86")).stream().map(x -> x.range().start()).toList());
    }

    @Test
    void armVirtDumpsRamOnlyNotTheFlash() throws IOException {
        List<String> b = blocks("aarch64");
        assertTrue(b.stream().noneMatch(s -> s.contains("virt.flash")), b.toString());
        assertTrue(b.stream().anyMatch(s -> s.contains("mach-virt.ram")), b.toString());
    }

    @Test
    void sectionsOfOneRegionMergeOnlyAtTheNextOffset() {
        String text = """
                FlatView #0
                 AS "memory", root: system
                 Root memory region: system
                  0000000000000000-0000000000000fff (prio 0, ram): a
                  0000000000001000-0000000000001fff (prio 0, ram): a @0000000000003000
                  0000000000002000-0000000000002fff (prio 0, ram): b
                  0000000000003000-0000000000003fff (prio 0, nv-ram): nvdimm
                  0000000000004000-0000000000004fff (prio 0, romd): flash
                """;
        assertEquals(3, FlatView.blocks(FlatView.systemSections(text, "t")).size());
    }

    @Test
    void aBrokenLineNamesItsNumber() {
        String text = "FlatView #0\n AS \"memory\", root: system\n  0000-zz (prio 0, ram): a\n";
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> FlatView.systemSections(text, "mtree"));
        assertTrue(e.getMessage().startsWith("mtree:3:"), e.getMessage());
    }
}
