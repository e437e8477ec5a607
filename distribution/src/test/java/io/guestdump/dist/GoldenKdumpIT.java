package io.guestdump.dist;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.guestdump.testkit.GoldenFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Every golden QEMU 7.2 dump, re-dumped by guestdump ({@code elf:} source) in kdump format, is opened by
 * python3-libkdumpfile with the dump's byte order, the guest's page size and the guest's release, and its physical
 * reads equal QEMU's ELF bytes at a few hundred sampled pages of every PT_LOAD (plus each PT_LOAD's first and last
 * page). Every arch is tried with every codec: zlib and zstd seekable; lzo and snappy seekable or in the flattened
 * form, rebuilt by {@code makedumpfile -R} (each arch once flattened, alternating lzo and snappy); and two with zero
 * pages excluded ({@code guestdump.kdump.zero-pages = exclude}, read back with libkdumpfile's
 * {@code file.zero_excluded}). So each codec meets all six arches, both byte orders, both ELF classes and both page
 * sizes (ppc64le's is 64 KiB).
 */
class GoldenKdumpIT {
    /** Pages sampled per PT_LOAD of QEMU's file, besides its first and last page. */
    static final int SAMPLES = 300;

    @TempDir
    Path work;

    @ParameterizedTest(name = "{0} {1} {2}")
    @CsvSource({
        "x86_64,  zlib,   seekable, LE, 4096, 6.1.0-56-cloud-amd64",
        "i386,    zlib,   seekable, LE, 4096, 6.1.0-50-686",
        "aarch64, zlib,   seekable, LE, 4096, 6.1.0-56-cloud-arm64",
        "arm,     zlib,   seekable, LE, 4096, 6.1.0-50-armmp-lpae",
        "ppc64le, zlib,   seekable, LE, 65536, 6.1.0-50-powerpc64le",
        "s390x,   zlib,   seekable, BE, 4096, 6.1.0-50-s390x",
        "x86_64,  zstd,   seekable, LE, 4096, 6.1.0-56-cloud-amd64",
        "i386,    zstd,   seekable, LE, 4096, 6.1.0-50-686",
        "aarch64, zstd,   seekable, LE, 4096, 6.1.0-56-cloud-arm64",
        "arm,     zstd,   seekable, LE, 4096, 6.1.0-50-armmp-lpae",
        "ppc64le, zstd,   seekable, LE, 65536, 6.1.0-50-powerpc64le",
        "s390x,   zstd,   seekable, BE, 4096, 6.1.0-50-s390x",
        "x86_64,  lzo,    seekable, LE, 4096, 6.1.0-56-cloud-amd64",
        "ppc64le, lzo,    seekable, LE, 65536, 6.1.0-50-powerpc64le",
        "aarch64, lzo,    seekable, LE, 4096, 6.1.0-56-cloud-arm64",
        "i386,    snappy, seekable, LE, 4096, 6.1.0-50-686",
        "arm,     snappy, seekable, LE, 4096, 6.1.0-50-armmp-lpae",
        "s390x,   snappy, seekable, BE, 4096, 6.1.0-50-s390x",
        "x86_64,  snappy, flattened, LE, 4096, 6.1.0-56-cloud-amd64",
        "i386,    lzo,    flattened, LE, 4096, 6.1.0-50-686",
        "aarch64, snappy, flattened, LE, 4096, 6.1.0-56-cloud-arm64",
        "arm,     lzo,    flattened, LE, 4096, 6.1.0-50-armmp-lpae",
        "ppc64le, snappy, flattened, LE, 65536, 6.1.0-50-powerpc64le",
        "s390x,   lzo,    flattened, BE, 4096, 6.1.0-50-s390x",
        "arm,     zstd,   excluded, LE, 4096, 6.1.0-50-armmp-lpae",
        "s390x,   zlib,   excluded, BE, 4096, 6.1.0-50-s390x"})
    void libkdumpfileReadsQemusBytesFromTheKdumpOfEveryGoldenGuest(String arch, String codec, String form,
            String byteOrder, int pageSize, String release) throws Exception {
        Tools.require("python3-libkdumpfile");
        Path qemu = GoldenFiles.unpackedFull(arch);
        Path kdump = work.resolve(arch + "-" + codec + ".kdump");
        Dist.Run dump;
        if (form.equals("seekable")) {
            dump = Dist.guestdump(work, "dump", "elf:" + qemu, "--format", "kdump-" + codec, "-o", kdump.toString())
                    .expect(0);
        } else if (form.equals("excluded")) {
            dump = Dist.guestdump(work, "dump", "elf:" + qemu, "--format", "kdump-" + codec, "-D",
                    "guestdump.kdump.zero-pages=exclude", "-o", kdump.toString()).expect(0);
        } else {
            Tools.require("makedumpfile");
            Path flat = work.resolve(arch + "-" + codec + ".flat");
            dump = Dist.guestdump(work, "dump", "elf:" + qemu, "--format", "kdump-" + codec, "--flattened", "-o",
                    flat.toString()).expect(0);
            Dist.run(work, Map.of(), List.of("sh", "-c", "makedumpfile -R " + kdump + " < " + flat)).expect(0);
            Files.delete(flat);
        }
        assertTrue(dump.out().contains("(kdump-" + codec), dump.out());

        Dist.Run r = Dist.run(work, Map.of(), List.of("/usr/bin/python3", script().toString(), kdump.toString(),
                qemu.toString(), byteOrder.equals("LE") ? "1" : "0", Integer.toString(pageSize),
                Integer.toString(SAMPLES), form)).expect(0);
        assertTrue(r.out().startsWith("equal "), r.out() + r.err());
        assertTrue(r.out().trim().endsWith(" " + release), "libkdumpfile reads the guest's release " + release
                + ": " + r.out());
        Files.delete(kdump);
    }

    /**
     * argv: kdump, QEMU's ELF, expected {@code arch.byte_order} (libkdumpfile: 0 big, 1 little), page size, samples,
     * form ({@code excluded}: zero pages were left out, so libkdumpfile is told to read them as zeros).
     * Prints {@code equal <pages> <non-zero pages> <release>}.
     */
    private Path script() throws Exception {
        return Files.writeString(work.resolve("check.py"), Tools.PYTHON_ELF_LOADS + String.join("\n",
                "import kdumpfile, sys, random",
                "k = kdumpfile.kdumpfile(sys.argv[1])",
                "order, page, samples = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])",
                "if sys.argv[6] == 'excluded': k.attr['file.zero_excluded'] = 1",
                "assert k.attr['file.format'] == 'diskdump', k.attr['file.format']",
                "assert k.attr['arch.byte_order'] == order, k.attr['arch.byte_order']",
                "assert k.attr['arch.page_size'] == page, k.attr['arch.page_size']",
                "f = open(sys.argv[2], 'rb')",
                "rnd = random.Random(7); n = 0; nonzero = 0",
                "for off, pa, fs in loads(f):",
                "    if fs == 0: continue",
                "    pages = (fs + page - 1) // page",
                "    picks = {0, pages - 1} | {rnd.randrange(pages) for _ in range(min(samples, pages))}",
                "    for j in sorted(picks):",
                "        a = pa + j * page; size = min(page, pa + fs - a)",
                "        f.seek(off + j * page); want = f.read(size)",
                "        got = k.read(kdumpfile.KDUMP_MACHPHYSADDR, a, size)",
                "        assert got == want, 'physical 0x%x: %d bytes differ' % (a, size)",
                "        n += 1; nonzero += any(want)",
                "assert nonzero > 0, 'only zero pages sampled'",
                "print('equal', n, nonzero, k.attr['linux.uts.release'])"));
    }
}
