package io.guestdump.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.core.config.ConfigLoader;
import io.guestdump.core.config.DumpSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** -D over --config over config/arch over config/guestdump.conf over reference.conf. */
class ConfigPrecedenceTest {
    @TempDir
    Path dir;

    private DumpSettings settings(List<Path> extra, Map<String, String> d) {
        var user = ConfigLoader.userLayers(dir, extra, d);
        return DumpSettings.from(ConfigLoader.withReference(user, getClass().getClassLoader()), dir, dir);
    }

    @Test
    void layersWinInOrder() throws IOException {
        assertEquals("auto", settings(List.of(), Map.of()).progressMode(), "reference.conf default");
        Files.writeString(dir.resolve("guestdump.conf"), "guestdump.progress.mode = never\n");
        assertEquals("never", settings(List.of(), Map.of()).progressMode());
        Files.createDirectories(dir.resolve("arch"));
        Files.writeString(dir.resolve("arch/x.conf"), "guestdump.progress.mode = always\n");
        assertEquals("always", settings(List.of(), Map.of()).progressMode(), "config/arch over guestdump.conf");
        Path extra = Files.writeString(dir.resolve("extra.conf"), "guestdump.progress.mode = never\n");
        assertEquals("never", settings(List.of(extra), Map.of()).progressMode(), "--config over config/");
        assertEquals("auto", settings(List.of(extra), Map.of("guestdump.progress.mode", "auto")).progressMode(),
                "-D over everything");
    }

    @Test
    void pluginDirsAreRelativeToHome() {
        assertEquals(List.of(dir.resolve("plugins")), settings(List.of(), Map.of()).pluginDirs());
    }

    @Test
    void badSettingsNameTheKey() throws IOException {
        var e = assertThrows(InvalidInputException.class,
                () -> settings(List.of(), Map.of("guestdump.output.fsync", "maybe")));
        assertTrue(e.getMessage().contains("fsync"), e.getMessage());
        var e2 = assertThrows(InvalidInputException.class,
                () -> settings(List.of(), Map.of("guestdump.progress.mode", "sometimes")));
        assertTrue(e2.getMessage().contains("sometimes"), e2.getMessage());
        var e3 = assertThrows(InvalidInputException.class, () -> settings(List.of(dir.resolve("none.conf")), Map.of()));
        assertTrue(e3.getMessage().contains("none.conf"), e3.getMessage());
        Files.writeString(dir.resolve("guestdump.conf"), "guestdump { broken \n");
        var e4 = assertThrows(InvalidInputException.class, () -> settings(List.of(), Map.of()));
        assertTrue(e4.getMessage().contains("guestdump.conf"), e4.getMessage());
    }
}
