package io.guestdump.core.plugins;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.guestdump.arch.api.ArchContext;
import io.guestdump.arch.api.ArchitectureSupport;
import io.guestdump.arch.api.UnsupportedGuestException;
import io.guestdump.core.config.ConfigLoader;
import io.guestdump.elf.Machine;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.pf4j.DefaultPluginManager;
import org.pf4j.ExtensionFactory;
import org.pf4j.PluginRuntimeException;
import org.pf4j.PluginState;
import org.pf4j.PluginWrapper;
import org.pf4j.RuntimeMode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The loaded architecture plugins. PF4J loads every jar in the plugin directories; each
 * {@link ArchitectureSupport} extension is created once, with its configuration subtree, and indexed by the guest
 * architectures it serves. Two extensions claiming one architecture is an error naming both jars. A jar that fails
 * to load is logged with its path and the others still load.
 */
public final class ArchitectureRegistry implements AutoCloseable {
    /** The framework version plugins' {@code Plugin-Requires} is checked against. Release-shaped on purpose. */
    public static final String SYSTEM_VERSION = "0.1.0";

    private static final Logger LOG = LoggerFactory.getLogger(ArchitectureRegistry.class);

    private final DefaultPluginManager manager;
    private final List<Loaded> loaded;
    private final Map<String, Loaded> byMachine;
    private final List<String> problems;

    /** One loaded extension with where it came from. */
    public record Loaded(ArchitectureSupport arch, String pluginId, String version, Path source) {
        /** {@code arch-foo 0.1.0 at plugins/arch-foo-0.1.0.jar}. */
        public String describe() {
            return pluginId + " " + version + " at " + source;
        }
    }

    private ArchitectureRegistry(DefaultPluginManager manager, List<Loaded> loaded, List<String> problems) {
        this.manager = manager;
        this.loaded = List.copyOf(loaded);
        this.problems = List.copyOf(problems);
        Map<String, Loaded> index = new LinkedHashMap<>();
        for (Loaded l : loaded) {
            for (String machine : l.arch().machines()) {
                Loaded other = index.putIfAbsent(machine, l);
                if (other != null) {
                    close();
                    throw new UnsupportedGuestException("Two plugins claim guest architecture " + machine + ": "
                            + other.describe() + " and " + l.describe() + ". Remove one jar, or disable it with "
                            + "guestdump.plugins.disabled = [\"" + l.pluginId() + "\"].");
                }
            }
        }
        this.byMachine = Collections.unmodifiableMap(index);
    }

    /**
     * Loads the plugins in {@code dirs} (missing directories are skipped), leaving out {@code disabled} ids.
     *
     * @param userConfig the user configuration layers (unresolved); each plugin sees them over its own
     *                   reference.conf
     */
    public static ArchitectureRegistry load(List<Path> dirs, List<String> disabled, Config userConfig) {
        List<Path> existing = dirs.stream().filter(Files::isDirectory).toList();
        ContextFactory factory = new ContextFactory(userConfig);
        List<String> problems = new ArrayList<>();
        DefaultPluginManager manager = new DefaultPluginManager(existing) {
            {
                setResolveRecoveryStrategy(ResolveRecoveryStrategy.IGNORE_PLUGIN_AND_CONTINUE);
            }

            @Override
            protected PluginWrapper loadPluginFromPath(Path pluginPath) {
                try {
                    return super.loadPluginFromPath(pluginPath);
                } catch (RuntimeException e) {
                    String msg = "plugin jar " + pluginPath + " cannot be loaded: " + rootMessage(e)
                            + "; the other plugins still load. Remove or replace the file.";
                    LOG.warn(msg);
                    problems.add(msg);
                    throw e;
                }
            }

            @Override
            protected ExtensionFactory createExtensionFactory() {
                return factory;
            }

            @Override
            public RuntimeMode getRuntimeMode() {
                return RuntimeMode.DEPLOYMENT;
            }
        };
        factory.manager = manager;
        manager.setSystemVersion(SYSTEM_VERSION);
        if (!existing.isEmpty()) {
            manager.loadPlugins();
            for (String id : disabled) {
                if (manager.getPlugin(id) != null) {
                    manager.unloadPlugin(id);
                    LOG.info("plugin {} disabled by guestdump.plugins.disabled", id);
                }
            }
            manager.startPlugins();
            for (PluginWrapper w : manager.getPlugins()) {
                if (w.getPluginState() != PluginState.STARTED) {
                    String why = w.getFailedException() != null ? ": " + w.getFailedException().getMessage() : "";
                    String msg = "plugin " + w.getPluginId() + " at " + w.getPluginPath() + " is "
                            + w.getPluginState() + why;
                    LOG.warn(msg);
                    problems.add(msg);
                }
            }
        }
        List<Loaded> loaded = new ArrayList<>();
        for (ArchitectureSupport arch : manager.getExtensions(ArchitectureSupport.class)) {
            PluginWrapper w = manager.whichPlugin(arch.getClass());
            if (w == null) {
                loaded.add(new Loaded(arch, "classpath", "-", sourceOf(arch.getClass())));
            } else {
                loaded.add(new Loaded(arch, w.getPluginId(), w.getDescriptor().getVersion(), w.getPluginPath()));
            }
        }
        return new ArchitectureRegistry(manager, loaded, problems);
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getMessage() != null ? t.getMessage() : t.toString();
    }

    private static Path sourceOf(Class<?> type) {
        try {
            return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (Exception e) {
            return Path.of(type.getName());
        }
    }

    /** Every loaded architecture, in load order. */
    public List<Loaded> all() {
        return loaded;
    }

    /** Plugins that were found but did not start, with the reason. */
    public List<String> problems() {
        return problems;
    }

    /** The extension serving a guest architecture. */
    public Optional<Loaded> forMachine(String machine) {
        return Optional.ofNullable(byMachine.get(machine));
    }

    /** The extension serving a guest architecture, or an error listing what is available. */
    public Loaded require(String machine) {
        return forMachine(machine).orElseThrow(() -> new UnsupportedGuestException("no plugin for guest "
                + "architecture '" + machine + "'; loaded: " + new TreeMap<>(byMachine).keySet()
                + ". Drop the architecture's plugin jar into a plugins directory (guestdump.plugins.dirs) or "
                + "check guestdump.plugins.disabled."));
    }

    /** The extension that reads vmcores of an {@code e_machine}. */
    public Optional<Loaded> forElfMachine(int machine) {
        return loaded.stream().filter(l -> l.arch().elfMachines().contains(machine)).findFirst();
    }

    /**
     * A readable {@code e_machine}, {@code "EM_FOO (62)"}, named by the plugin that declares it;
     * {@code "EM_? (62)"} when no loaded plugin names it.
     */
    public String elfMachineName(int machine) {
        for (Loaded l : loaded) { // a plugin may name a value it writes but does not read back
            String name = l.arch().elfMachineName(machine);
            if (name != null) {
                return Machine.describe(name, machine);
            }
        }
        return Machine.describe(null, machine);
    }

    /**
     * Unloads the plugins. Only {@code unloadPlugins()}: PF4J 3.15.0's {@code stopPlugins()} modifies the list it
     * iterates (pf4j#656) and throws with one or three plugins.
     */
    @Override
    public void close() {
        manager.unloadPlugins();
    }

    /** Creates each extension once, handing it its {@link ArchContext} when it has such a constructor. */
    private static final class ContextFactory implements ExtensionFactory {
        private final Config userConfig;
        private final Map<Class<?>, Object> instances = new LinkedHashMap<>();
        private DefaultPluginManager manager;

        ContextFactory(Config userConfig) {
            this.userConfig = userConfig;
        }

        @Override
        @SuppressWarnings("unchecked")
        public synchronized <T> T create(Class<T> type) {
            Object existing = instances.get(type);
            if (existing != null) {
                return (T) existing;
            }
            T made = instantiate(type);
            instances.put(type, made);
            return made;
        }

        private <T> T instantiate(Class<T> type) {
            try {
                for (Constructor<?> c : type.getConstructors()) {
                    if (c.getParameterCount() == 1 && c.getParameterTypes()[0] == ArchContext.class) {
                        return type.cast(c.newInstance(new ArchContext(configFor(type))));
                    }
                }
                return type.getConstructor().newInstance();
            } catch (InvocationTargetException e) {
                Throwable cause = e.getCause();
                if (cause instanceof RuntimeException re) {
                    throw re;
                }
                throw new PluginRuntimeException(cause, "cannot create extension {}", type.getName());
            } catch (ReflectiveOperationException e) {
                throw new PluginRuntimeException(e, "cannot create extension {}: it needs a public constructor "
                        + "taking ArchContext, or a public no-argument one", type.getName());
            }
        }

        private Config configFor(Class<?> type) {
            PluginWrapper w = manager == null ? null : manager.whichPlugin(type);
            ClassLoader loader = w != null ? w.getPluginClassLoader() : type.getClassLoader();
            Config full = ConfigLoader.withReference(userConfig, loader);
            String id = w != null ? archIdOf(w.getPluginId()) : null;
            if (id == null) {
                return ConfigFactory.empty();
            }
            String path = "guestdump.arch.\"" + id + "\"";
            return full.hasPath(path) ? full.getConfig(path) : ConfigFactory.empty();
        }
    }

    /** The config subtree name of a plugin: its id without the {@code arch-} prefix. */
    public static String archIdOf(String pluginId) {
        return pluginId.startsWith("arch-") ? pluginId.substring("arch-".length()) : pluginId;
    }
}
