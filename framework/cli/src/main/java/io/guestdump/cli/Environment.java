package io.guestdump.cli;

import com.typesafe.config.Config;
import io.guestdump.core.config.ConfigErrors;
import io.guestdump.core.config.ConfigLoader;
import io.guestdump.core.config.DumpSettings;
import io.guestdump.core.plugins.ArchitectureRegistry;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Where the installation is and what its configuration says. The launcher sets {@code -Dguestdump.home}; without
 * it the working directory is the home. {@code -Dguestdump.config-dir} moves the configuration directory.
 */
final class Environment {
    final Path home;
    final Path configDir;
    final Config user;
    final DumpSettings settings;
    private final PrintWriter err;
    private static final String ARCH_PREFIX = "guestdump.arch.";

    private Environment(Path home, Path configDir, Config user, DumpSettings settings, PrintWriter err) {
        this.err = err;
        this.home = home;
        this.configDir = configDir;
        this.user = user;
        this.settings = settings;
    }

    /** The configuration last loaded, for naming a bad value in an error a plugin's settings threw. */
    private static volatile Config lastLoaded;

    static Config lastLoaded() {
        return lastLoaded;
    }

    /** Loads the configuration and warns on {@code err} about unknown {@code guestdump.} keys. */
    static Environment load(CommonOptions common, PrintWriter err) {
        return load(common.configFiles, common.overrides, err);
    }

    /** As {@link #load(CommonOptions, PrintWriter)}, with the {@code --config} files and {@code -D} settings. */
    static Environment load(List<Path> configFiles, Map<String, String> overrides, PrintWriter err) {
        Path home = Path.of(System.getProperty("guestdump.home", ".")).toAbsolutePath().normalize();
        Path configDir = Path.of(System.getProperty("guestdump.config-dir", home.resolve("config").toString()))
                .toAbsolutePath().normalize();
        Config user = ConfigLoader.userLayers(configDir, configFiles, overrides);
        Config full = ConfigLoader.withReference(user, Environment.class.getClassLoader());
        lastLoaded = full;
        // keys under guestdump.arch are judged once the plugins (and their reference.conf) are loaded
        warnUnknown(user, ConfigLoader.reference(Environment.class.getClassLoader()),
                false, err);
        return new Environment(home, configDir, user, DumpSettings.from(full, home, configDir), err);
    }

    ArchitectureRegistry registry() {
        ArchitectureRegistry registry = ArchitectureRegistry.load(settings.pluginDirs(), settings.disabledPlugins(),
                user);
        Config reference = ConfigLoader.reference(Environment.class.getClassLoader());
        for (ArchitectureRegistry.Loaded l : registry.all()) {
            reference = reference.withFallback(ConfigLoader.reference(l.arch().getClass().getClassLoader()));
        }
        warnUnknown(user, reference, true, err);
        return registry;
    }

    private static void warnUnknown(Config user, Config reference, boolean archKeys, PrintWriter err) {
        for (String w : ConfigErrors.unknownKeys(user, reference)) {
            if (w.startsWith("unknown setting " + ARCH_PREFIX) == archKeys) {
                err.println("guestdump: warning: " + w);
            }
        }
        err.flush();
    }
}
