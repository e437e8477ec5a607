package io.guestdump.dist;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The consumer tools the tests run. Where one is missing the test is skipped with a message, except under
 * {@code GUESTDUMP_REQUIRE_TOOLS=1} (set by .ci/run, which installs them), where it fails.
 */
final class Tools {
    private Tools() {}

    static void require(String tool) {
        boolean present = tool.equals("python3-libkdumpfile") ? python("kdumpfile")
                : tool.equals("python3-drgn") ? python("drgn") : onPath(tool);
        if (!present) {
            if ("1".equals(System.getenv("GUESTDUMP_REQUIRE_TOOLS"))) {
                fail(tool + " is not installed but GUESTDUMP_REQUIRE_TOOLS=1; .ci/run installs it");
            }
            assumeTrue(false, "skipped: " + tool + " is not installed (apt-get install it, or run .ci/run)");
        }
    }

    /**
     * Whether the tool is there, for a check that is one part of a larger test: false lets the caller leave that
     * part out; under {@code GUESTDUMP_REQUIRE_TOOLS=1} a missing tool fails instead.
     */
    static boolean available(String tool) {
        boolean present = tool.equals("python3-libkdumpfile") ? python("kdumpfile") : onPath(tool);
        if (!present && "1".equals(System.getenv("GUESTDUMP_REQUIRE_TOOLS"))) {
            fail(tool + " is not installed but GUESTDUMP_REQUIRE_TOOLS=1; .ci/run installs it");
        }
        return present;
    }

    private static boolean onPath(String tool) {
        for (String dir : System.getenv("PATH").split(":")) {
            if (Files.isExecutable(Path.of(dir, tool))) {
                return true;
            }
        }
        return false;
    }

    private static boolean python(String module) {
        try {
            return Dist.run(Path.of("."), Map.of(), List.of("/usr/bin/python3", "-c", "import " + module)).exit() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    /**
     * Python lines defining {@code loads(f)}: the {@code (offset, paddr, filesz)} of every PT_LOAD of the ELF file
     * open as {@code f}, either class and byte order; for the consumer-tool scripts that compare physical reads
     * with an ELF's bytes.
     */
    static final String PYTHON_ELF_LOADS = String.join("\n",
            "import struct",
            "def loads(f):",
            "    f.seek(0); h = f.read(64)",
            "    e = '<' if h[5] == 1 else '>'",
            "    if h[4] == 2:",
            "        phoff, = struct.unpack(e + 'Q', h[32:40]); ent, num = struct.unpack(e + 'HH', h[54:58])",
            "    else:",
            "        phoff, = struct.unpack(e + 'I', h[28:32]); ent, num = struct.unpack(e + 'HH', h[42:46])",
            "    out = []",
            "    for i in range(num):",
            "        f.seek(phoff + i * ent); p = f.read(ent)",
            "        if h[4] == 2: t, _, off, _, pa, fs, _, _ = struct.unpack(e + 'IIQQQQQQ', p)",
            "        else: t, off, _, pa, fs, _, _, _ = struct.unpack(e + 'IIIIIIII', p)",
            "        if t == 1: out.append((off, pa, fs))",
            "    return out",
            "");
}
