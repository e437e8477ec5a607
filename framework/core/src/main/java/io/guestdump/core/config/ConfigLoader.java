package io.guestdump.core.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import io.guestdump.arch.api.InvalidInputException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.stream.Stream;

/**
 * Layers the user's configuration. Highest first: {@code -D key=value} overrides, Java system properties, each
 * {@code --config FILE} (later files win), {@code config/arch/*.conf}, {@code config/guestdump.conf}. The
 * reference layers (framework and plugins) are added by whoever knows the class loaders: see
 * {@link #withReference(Config, ClassLoader)}.
 */
public final class ConfigLoader {
    private ConfigLoader() {}

    /**
     * The user layers, unresolved.
     *
     * @param configDir  the installation's config directory; may be null or absent
     * @param extraFiles {@code --config} files, in command-line order
     * @param overrides  {@code -D} settings, HOCON paths to values (values parsed as HOCON, else strings)
     */
    public static Config userLayers(Path configDir, List<Path> extraFiles, Map<String, String> overrides) {
        Config merged = ConfigFactory.empty();
        if (configDir != null && Files.isDirectory(configDir)) {
            merged = parseFile(configDir.resolve("guestdump.conf"), false).withFallback(merged);
            Path archDir = configDir.resolve("arch");
            if (Files.isDirectory(archDir)) {
                try (Stream<Path> files = Files.list(archDir)) {
                    for (Path f : files.filter(p -> p.toString().endsWith(".conf")).sorted().toList()) {
                        merged = parseFile(f, true).withFallback(merged);
                    }
                } catch (IOException e) {
                    throw new InvalidInputException("cannot list " + archDir + ": " + e.getMessage(), e);
                }
            }
        }
        for (Path f : extraFiles) {
            if (!Files.isRegularFile(f)) {
                throw new InvalidInputException("--config " + f + ": no such file; give the path of a HOCON file");
            }
            merged = parseFile(f, true).withFallback(merged);
        }
        merged = ConfigFactory.systemProperties().withFallback(merged);
        merged = parseOverrides(overrides).withFallback(merged);
        return merged;
    }

    /**
     * Every {@code reference.conf} the class loader sees, unresolved. Parsed once per class loader: a command
     * otherwise parses the framework's files again for each plugin (a plugin's loader sees its parent's files too),
     * and start-up time showed it. The cache holds its loaders weakly, so closed plugins' loaders can go.
     */
    public static Config reference(ClassLoader loader) {
        synchronized (REFERENCES) {
            return REFERENCES.computeIfAbsent(loader, l -> ConfigFactory.parseResourcesAnySyntax(l, "reference.conf"));
        }
    }

    private static final Map<ClassLoader, Config> REFERENCES = new WeakHashMap<>();

    /** The user layers over every {@code reference.conf} the class loader sees, resolved. */
    public static Config withReference(Config user, ClassLoader loader) {
        Config reference = reference(loader);
        try {
            return user.withFallback(reference).resolve();
        } catch (ConfigException e) {
            throw new InvalidInputException("configuration error: " + e.getMessage(), e);
        }
    }

    /** Parses {@code -D} settings; a value that is not valid HOCON is taken as a string. */
    public static Config parseOverrides(Map<String, String> overrides) {
        Config out = ConfigFactory.empty();
        List<Map.Entry<String, String>> entries = new ArrayList<>(overrides.entrySet());
        for (Map.Entry<String, String> e : entries) {
            Config one;
            try {
                one = ConfigFactory.parseString(e.getKey() + " = " + e.getValue(),
                        ConfigParseOptions.defaults().setOriginDescription("-D " + e.getKey()));
            } catch (ConfigException.Parse notHocon) {
                try {
                    one = ConfigFactory.parseMap(Map.of(e.getKey(), e.getValue()), "-D " + e.getKey());
                } catch (ConfigException bad) {
                    throw new InvalidInputException("-D " + e.getKey() + "=" + e.getValue()
                            + ": not a valid setting (" + bad.getMessage() + "); use -D path.to.key=value");
                }
            }
            out = one.withFallback(out);
        }
        return out;
    }

    private static Config parseFile(Path file, boolean required) {
        if (!Files.isRegularFile(file)) {
            if (required) {
                throw new InvalidInputException("configuration file " + file + " does not exist");
            }
            return ConfigFactory.empty();
        }
        try {
            return ConfigFactory.parseFile(file.toFile(), ConfigParseOptions.defaults().setAllowMissing(false));
        } catch (ConfigException e) {
            throw new InvalidInputException("configuration file " + file + " is not valid HOCON: " + e.getMessage()
                    + "; fix the file or remove it", e);
        }
    }
}
