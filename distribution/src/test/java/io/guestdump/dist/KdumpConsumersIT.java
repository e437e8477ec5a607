package io.guestdump.dist;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The bundled sample guest (x86_64) in every kdump format and both forms: libkdumpfile opens each and its physical
 * reads equal the snapshot; makedumpfile -R turns the flattened form into the seekable file byte for byte; crash
 * reads the release from VMCOREINFO.
 */
class KdumpConsumersIT {
    static final List<String> CODECS = List.of("zlib", "lzo", "snappy", "zstd");

    @TempDir
    static Path work;

    @BeforeAll
    static void dump() throws Exception {
        for (String c : CODECS) {
            Dist.guestdump(work, "dump", "sample:", "--format", "kdump-" + c, "-o", c + ".kdump").expect(0);
            Dist.guestdump(work, "dump", "sample:", "--format", "kdump-" + c, "--flattened", "-o", c + ".flat").expect(0);
        }
        Dist.guestdump(work, "dump", "sample:", "--format", "kdump-zstd", "-D", "guestdump.kdump.zero-pages=exclude", "-o",
                "excluded.kdump").expect(0);
        Dist.guestdump(work, "dump", "sample:", "--paging", "--format", "kdump-lzo", "-o", "paging.kdump").expect(0);
    }

    static Dist.Run libkdumpfile(Path file, boolean zeroExcluded) throws Exception {
        Path ram = Dist.home().resolve("config/guests/sample-x86_64-ram.bin");
        String script = String.join("\n",
                "import kdumpfile, sys",
                "k = kdumpfile.kdumpfile(sys.argv[1])",
                zeroExcluded ? "k.attr['file.zero_excluded'] = 1" : "",
                "ram = open(sys.argv[2], 'rb').read()",
                "assert k.attr['file.format'] == 'diskdump', k.attr['file.format']",
                "assert k.attr['linux.uts.release'] == '6.1.0-guestdump-sample'",
                "assert k.attr['linux.phys_base'] == (1 << 64) - 14680064, k.attr['linux.phys_base']",
                "assert k.attr['arch.page_size'] == 4096",
                "blocks = [(0x0, 0xa0000, 0), (0x100000, 0x300000, 0xa0000)]",
                "n = 0",
                "for start, size, off in blocks:",
                "    for a in range(start, start + size, 4096):",
                "        got = k.read(kdumpfile.KDUMP_MACHPHYSADDR, a, 4096)",
                "        want = ram[off + a - start: off + a - start + 4096]",
                "        assert got == want, hex(a)",
                "        n += 1",
                "print('pages', n)");
        Path py = Files.writeString(work.resolve("check-" + file.getFileName() + ".py"), script);
        return Dist.run(work, Map.of(), List.of("/usr/bin/python3", py.toString(), file.toString(), ram.toString()));
    }

    @ParameterizedTest
    @ValueSource(strings = {"zlib", "lzo", "snappy", "zstd"})
    void libkdumpfileOpensEveryCodecAndPhysicalReadsEqualTheSnapshot(String codec) throws Exception {
        Tools.require("python3-libkdumpfile");
        Dist.Run r = libkdumpfile(work.resolve(codec + ".kdump"), false).expect(0);
        assertTrue(r.out().contains("pages 928"), r.out() + r.err());
    }

    @Test
    void libkdumpfileReadsExcludedZeroPagesAsZerosWhenAskedTo() throws Exception {
        Tools.require("python3-libkdumpfile");
        Dist.Run r = libkdumpfile(work.resolve("excluded.kdump"), true).expect(0);
        assertTrue(r.out().contains("pages 928"), r.out() + r.err());
    }

    /** QEMU refuses paging with its kdump formats; here the page-table walk runs and the file holds every page. */
    @Test
    void aPagingDumpInKdumpFormHoldsEveryPhysicalPage() throws Exception {
        Tools.require("python3-libkdumpfile");
        Dist.Run r = libkdumpfile(work.resolve("paging.kdump"), false).expect(0);
        assertTrue(r.out().contains("pages 928"), r.out() + r.err());
    }

    @ParameterizedTest
    @ValueSource(strings = {"zlib", "lzo", "snappy", "zstd"})
    void makedumpfileRearrangesTheFlattenedFormIntoTheSeekableFile(String codec) throws Exception {
        Tools.require("makedumpfile");
        Path out = work.resolve(codec + ".rearranged");
        Dist.Run r = Dist.run(work, Map.of(), List.of("sh", "-c", "makedumpfile -R " + out + " < " + codec
                + ".flat")).expect(0);
        assertTrue(r.out().contains("The dumpfile is saved") || r.err().isEmpty() || r.out().isEmpty(),
                r.out() + r.err());
        assertArrayEquals(Files.readAllBytes(work.resolve(codec + ".kdump")), Files.readAllBytes(out),
                "makedumpfile -R output differs from the seekable form");
        if (codec.equals("zlib")) {
            Tools.require("python3-libkdumpfile");
            libkdumpfile(out, false).expect(0);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"zlib.kdump", "zstd.kdump", "lzo.flat", "paging.kdump"})
    void crashReadsTheReleaseOfTheX86_64Kdump(String file) throws Exception {
        Tools.require("crash");
        Dist.Run r = Dist.run(work, Map.of(), List.of("crash", "--osrelease", file)).expect(0);
        assertTrue(r.out().strip().lines().allMatch("6.1.0-guestdump-sample"::equals), r.out() + r.err());
    }

    /**
     * The kdump header's utsname is the guest's own init_uts_ns (read through its page tables), no field empty, so
     * libkdumpfile finds the architecture and drgn opens the file; drgn reads the kernel's utsname by its virtual
     * addresses, in the kernel image and in the linear map, from the kdump file and from the default ELF.
     */
    @ParameterizedTest
    @ValueSource(strings = {"zlib.kdump", "lzo.kdump", "snappy.kdump", "zstd.kdump", "lzo.flat.rearranged", "elf"})
    void libkdumpfileAndDrgnFindTheArchitectureInTheGuestsUtsname(String file) throws Exception {
        Tools.require("python3-libkdumpfile");
        Path f = work.resolve(file);
        if (file.equals("elf")) {
            Dist.guestdump(work, "dump", "sample:", "--force", "-o", f.toString()).expect(0);
        } else if (file.endsWith(".rearranged")) {
            Tools.require("makedumpfile");
            Dist.run(work, Map.of(), List.of("sh", "-c", "makedumpfile -R " + f + " < lzo.flat")).expect(0);
        }
        String uts = "Linux guestdump-sample 6.1.0-guestdump-sample #1 SMP PREEMPT_DYNAMIC x86_64 (none)";
        if (!file.equals("elf")) {
            Dist.Run k = Dist.run(work, Map.of(), List.of("/usr/bin/python3", "-c", String.join("\n",
                    "import kdumpfile, sys",
                    "k = kdumpfile.kdumpfile(sys.argv[1])",
                    "print(k.attr['arch.name'])",
                    "u = k.attr['linux.uts']",
                    "print(' '.join(u[n] for n in ('sysname', 'nodename', 'release', 'version', 'machine',"
                            + " 'domainname')))"), f.toString())).expect(0);
            assertEquals("x86_64\n" + uts + "\n", k.out(), k.err());
        }
        Tools.require("python3-drgn");
        Dist.Run d = Dist.run(work, Map.of(), List.of("/usr/bin/python3", "-c", String.join("\n",
                "import drgn, sys",
                "p = drgn.Program()",
                "p.set_core_dump(sys.argv[1])",
                "print(p.platform.arch)",
                // init_uts_ns.name.sysname: kernel image, linear map, physical
                "print(p.read(0xffffffff81080000, 6), p.read(0xffff888000280000, 6), p.read(0x280000, 6, True))"),
                f.toString())).expect(0);
        assertEquals("Architecture.X86_64\nb'Linux\\x00' b'Linux\\x00' b'Linux\\x00'\n", d.out(), d.err());
    }

    @Test
    void theSeekableFormIsRefusedOnStandardOutputBeforeAnyByte() throws Exception {
        Dist.Run r = Dist.guestdump(work, "dump", "sample:", "--format", "kdump-zlib", "-o", "-");
        assertTrue(r.exit() != 0 && r.out().isEmpty() && r.err().contains("--flattened"), r.err());
    }
}
