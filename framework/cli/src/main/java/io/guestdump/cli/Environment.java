package io.guestdump.cli;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.guestdump.core.config.ConfigErrors;
import io.guestdump.core.config.ConfigLoader;
import io.guestdump.core.config.DumpSettings;
import io.guestdump.core.plugins.ArchitectureRegistry;
import java.io.PrintWriter;
import java.nio.file.Path;

/**
 * Where the installation is and what its configuration says. The launcher sets {@code -Dguestdump.home}; without
 * it the working directory is the home. {@code -Dguestdump.config-dir} moves the configuration directory.
 */
final class Environment {
    final Path home;
    final Path configDir;
    final Config user;
    final DumpSettings settings;

    private Environment(Path home, Path configDir, Config user, DumpSettings settings) {
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
        Path home = Path.of(System.getProperty("guestdump.home", ".")).toAbsolutePath().normalize();
        Path configDir = Path.of(System.getProperty("guestdump.config-dir", home.resolve("config").toString()))
                .toAbsolutePath().normalize();
        Config user = ConfigLoader.userLayers(configDir, common.configFiles, common.overrides);
        Config full = ConfigLoader.withReference(user, Environment.class.getClassLoader());
        lastLoaded = full;
        for (String w : ConfigErrors.unknownKeys(user,
                ConfigFactory.parseResourcesAnySyntax(Environment.class.getClassLoader(), "reference.conf"))) {
            err.println("guestdump: warning: " + w);
        }
        err.flush();
        return new Environment(home, configDir, user, DumpSettings.from(full, home, configDir));
    }

    ArchitectureRegistry registry() {
        return ArchitectureRegistry.load(settings.pluginDirs(), settings.disabledPlugins(), user);
    }
}
