package io.guestdump.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import io.guestdump.core.config.ConfigLoader;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 13 (start-up): each class loader's reference.conf files are parsed once, and each loader sees its own. */
class ConfigReferenceCacheTest {
    @TempDir
    Path dir;

    private URLClassLoader loaderWith(String name, String conf) throws Exception {
        Path d = Files.createDirectories(dir.resolve(name));
        Files.writeString(d.resolve("reference.conf"), conf);
        return new URLClassLoader(new URL[] {d.toUri().toURL()}, getClass().getClassLoader());
    }

    @Test
    void eachLoaderSeesItsOwnFilesOverItsParentsAndIsParsedOnce() throws Exception {
        try (URLClassLoader a = loaderWith("a", "guestdump.arch.a { x = 1 }\n");
                URLClassLoader b = loaderWith("b", "guestdump.arch.b { x = 2 }\n")) {
            Config ra = ConfigLoader.reference(a);
            assertSame(ra, ConfigLoader.reference(a), "parsed once per loader");
            assertEquals(1, ra.getInt("guestdump.arch.a.x"));
            assertFalse(ra.hasPath("guestdump.arch.b"));
            assertTrue(ra.hasPath("guestdump.progress.mode"), "the parent's (framework's) reference.conf too");
            Config rb = ConfigLoader.reference(b);
            assertEquals(2, rb.getInt("guestdump.arch.b.x"));
            assertFalse(rb.hasPath("guestdump.arch.a"));
            // the user's layers still win over the cached reference
            Config full = ConfigLoader.withReference(ConfigLoader.parseOverrides(Map.of("guestdump.arch.a.x", "5")), a);
            assertEquals(5, full.getInt("guestdump.arch.a.x"));
            assertEquals(1, ConfigLoader.reference(a).getInt("guestdump.arch.a.x"));
        }
    }
}
