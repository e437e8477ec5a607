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
        boolean present = tool.equals("python3-libkdumpfile") ? libkdumpfile() : onPath(tool);
        if (!present) {
            if ("1".equals(System.getenv("GUESTDUMP_REQUIRE_TOOLS"))) {
                fail(tool + " is not installed but GUESTDUMP_REQUIRE_TOOLS=1; .ci/run installs it");
            }
            assumeTrue(false, "skipped: " + tool + " is not installed (apt-get install it, or run .ci/run)");
        }
    }

    private static boolean onPath(String tool) {
        for (String dir : System.getenv("PATH").split(":")) {
            if (Files.isExecutable(Path.of(dir, tool))) {
                return true;
            }
        }
        return false;
    }

    private static boolean libkdumpfile() {
        try {
            return Dist.run(Path.of("."), Map.of(), List.of("/usr/bin/python3", "-c", "import kdumpfile")).exit() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }
}
