package io.guestdump.core.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import io.guestdump.arch.api.InvalidInputException;
import java.io.IOException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.stream.Stream;
import org.pf4j.PluginClassLoader;

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
            Config cached = REFERENCES.get(loader);
            if (cached == null) {
                cached = loader instanceof PluginClassLoader plugin ? pluginReference(plugin)
                        : ConfigFactory.parseResourcesAnySyntax(loader, "reference.conf");
                REFERENCES.put(loader, cached);
            }
            return cached;
        }
    }

    /**
     * A plugin's own {@code reference.conf} over its parent loader's (the framework's, parsed once for all
     * plugins). The same files in the same order as parsing everything the plugin's loader sees: PF4J's loader lists
     * the plugin's own resources before its parent's, and the first file parsed wins. Parsing the framework's files
     * again for each of six plugins was a tenth of {@code guestdump archs}' start-up.
     */
    private static Config pluginReference(PluginClassLoader loader) {
        Config own = ConfigFactory.empty();
        try {
            Enumeration<URL> urls = loader.findResources("reference.conf");
            while (urls.hasMoreElements()) {
                own = own.withFallback(ConfigFactory.parseURL(urls.nextElement()));
            }
        } catch (IOException e) {
            throw new InvalidInputException("cannot read the reference.conf of a plugin: " + e.getMessage(), e);
        }
        ClassLoader parent = loader.getParent();
        return parent == null ? own : own.withFallback(reference(parent));
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
