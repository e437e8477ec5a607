package io.guestdump.core.plugins;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.guestdump.arch.api.ArchContext;
import io.guestdump.arch.api.ArchitectureSupport;
import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.arch.api.SampleGuest;
import io.guestdump.arch.api.UnsupportedGuestException;
import io.guestdump.core.config.ConfigLoader;
import io.guestdump.elf.Machine;
import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.jar.JarFile;
import org.pf4j.ExtensionFactory;
import org.pf4j.PluginManager;
import org.pf4j.PluginRuntimeException;
import org.pf4j.PluginState;
import org.pf4j.PluginWrapper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The loaded architecture plugins. PF4J loads every jar in the plugin directories; each
 * {@link ArchitectureSupport} extension is created once, with its configuration subtree, and indexed by the guest
 * architectures it serves. Two extensions claiming one architecture is an error naming both jars. A jar that fails
 * to load, a plugin whose extension fails to start (its constructor throws, e.g. on a bad config value), and a jar
 * that adds no architecture (no extension index, or one that bundles the plugin API) are each logged with the jar
 * and the reason, kept in {@link #problems()}, and the others still load.
 */
public final class ArchitectureRegistry implements AutoCloseable {
    /** The framework version plugins' {@code Plugin-Requires} is checked against. Release-shaped on purpose. */
    public static final String SYSTEM_VERSION = "0.1.0";

    private static final Logger LOG = LoggerFactory.getLogger(ArchitectureRegistry.class);
    /** Where PF4J's annotation processor lists a jar's extensions. */
    static final String EXTENSION_INDEX = "META-INF/extensions.idx";
    /** A class only the plugin API jar may hold. */
    static final String API_CLASS_ENTRY = ArchitectureSupport.class.getName().replace('.', '/') + ".class";

    private final QuietPluginManager manager;
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

    private ArchitectureRegistry(QuietPluginManager manager, List<Loaded> loaded, List<String> problems) {
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
        QuietPluginManager manager = new QuietPluginManager(existing) {
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
        Set<String> contributing = new HashSet<>();
        for (Class<? extends ArchitectureSupport> type : extensionClasses(manager)) {
            PluginWrapper w = manager.whichPlugin(type);
            if (w != null) {
                contributing.add(w.getPluginId());
            }
            ArchitectureSupport arch;
            try {
                arch = factory.create(type);
            } catch (RuntimeException | LinkageError e) {
                // one plugin's bad constructor (a bad config value, a missing class) must not stop the others
                String who = w == null ? "extension " + type.getName() + " on the class path"
                        : "plugin " + w.getPluginId() + " at " + w.getPluginPath();
                String id = w == null ? type.getName() : w.getPluginId();
                String why = e instanceof com.typesafe.config.ConfigException ce
                        ? io.guestdump.core.config.ConfigErrors.describe(ce, userConfig) : rootMessage(e);
                String msg = who + " failed to start: " + why + "; the other plugins still load. Fix "
                        + "what the message names (its settings live under guestdump.arch." + archIdOf(id)
                        + "), or leave it out with guestdump.plugins.disabled = [\"" + id + "\"].";
                LOG.warn(msg);
                problems.add(msg);
                continue;
            }
            if (w == null) {
                Path jar = sourceOf(arch.getClass());
                String[] idVersion = classpathPlugin(arch.getClass());
                loaded.add(new Loaded(arch, idVersion[0], idVersion[1], jar));
            } else {
                loaded.add(new Loaded(arch, w.getPluginId(), w.getDescriptor().getVersion(), w.getPluginPath()));
            }
        }
        for (PluginWrapper w : manager.getStartedPlugins()) {
            if (!contributing.contains(w.getPluginId())) {
                String msg = "plugin " + w.getPluginId() + " at " + w.getPluginPath()
                        + " adds no architecture: " + whyNoExtension(w.getPluginPath());
                LOG.warn(msg);
                problems.add(msg);
            }
        }
        return new ArchitectureRegistry(manager, loaded, problems);
    }

    /**
     * The {@link ArchitectureSupport} classes the extension indexes name: the class path's first, then each started
     * plugin's, in the order PF4J's own finder gives. Read here rather than through that finder, which also parses
     * every listed class's {@code @Extension} annotation (for ordinals and optional plugin dependencies, which an
     * architecture plugin has no use for): a tenth of {@code guestdump archs}' start-up. A listed class that cannot be
     * loaded is logged and skipped, as PF4J does; its plugin is then reported as adding no architecture.
     */
    static List<Class<? extends ArchitectureSupport>> extensionClasses(PluginManager manager) {
        List<Class<? extends ArchitectureSupport>> found = new ArrayList<>();
        ClassLoader app = ArchitectureRegistry.class.getClassLoader();
        try {
            for (URL index : Collections.list(app.getResources(EXTENSION_INDEX))) {
                addListed(index, app, "the class path", found);
            }
        } catch (IOException e) {
            LOG.warn("cannot list the class path's {}: {}", EXTENSION_INDEX, e.getMessage());
        }
        for (PluginWrapper w : manager.getPlugins()) {
            if (w.getPluginState() != PluginState.STARTED) {
                continue;
            }
            ClassLoader loader = w.getPluginClassLoader();
            URL index = loader instanceof URLClassLoader own ? own.findResource(EXTENSION_INDEX)
                    : loader.getResource(EXTENSION_INDEX);
            if (index != null) {
                addListed(index, loader, "plugin " + w.getPluginId(), found);
            }
        }
        return found;
    }

    private static void addListed(URL index, ClassLoader loader, String where,
            List<Class<? extends ArchitectureSupport>> found) {
        String text;
        try (InputStream in = index.openStream()) {
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            LOG.warn("cannot read {} of {}: {}", EXTENSION_INDEX, where, e.getMessage());
            return;
        }
        for (String line : text.split("\n")) {
            String name = line.strip();
            if (name.isEmpty() || name.startsWith("#")) {
                continue;
            }
            try {
                Class<?> type = loader.loadClass(name);
                if (ArchitectureSupport.class.isAssignableFrom(type)) {
                    found.add(type.asSubclass(ArchitectureSupport.class));
                }
            } catch (ClassNotFoundException | LinkageError e) {
                LOG.warn("{} lists extension {} in {}, which cannot be loaded: {}", where, name, EXTENSION_INDEX,
                        e.toString());
            }
        }
    }

    /** What is wrong with a plugin jar that started but contributes no {@link ArchitectureSupport}. */
    static String whyNoExtension(Path pluginPath) {
        if (!Files.isRegularFile(pluginPath)) {
            return "its META-INF/extensions.idx lists no " + ArchitectureSupport.class.getName() + " extension";
        }
        try (JarFile jar = new JarFile(pluginPath.toFile())) {
            if (jar.getEntry(API_CLASS_ENTRY) != null) {
                return "it bundles the plugin API (" + API_CLASS_ENTRY + "), so its extensions implement a second "
                        + "copy of ArchitectureSupport the framework cannot use. Rebuild it with guestdump-plugin-api "
                        + "(and pf4j) at provided scope, so the jar holds only the plugin's own classes.";
            }
            if (jar.getEntry(EXTENSION_INDEX) == null) {
                return "the jar has no " + EXTENSION_INDEX + ", so none of its @Extension classes is visible: PF4J's "
                        + "annotation processor did not run when it was compiled (javac on JDK 23+ runs no processors "
                        + "unless asked: add -proc:full, or list pf4j in annotationProcessorPaths). Rebuild it.";
            }
            return "its " + EXTENSION_INDEX + " lists no " + ArchitectureSupport.class.getName() + " extension; "
                    + "annotate the class implementing it with @Extension and rebuild";
        } catch (IOException e) {
            return "its jar cannot be read: " + e.getMessage();
        }
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
     * The sample guest {@code sample:} and {@code guestdump sample-guest} use: that of the architecture {@code archId}
     * names ({@code guestdump.sample-arch}), or with {@code archId} null that of the first loaded plugin offering one,
     * in plugin id order (then architecture id).
     *
     * @throws InvalidInputException when no such architecture is loaded, or it offers no sample guest
     * @throws UnsupportedGuestException when {@code archId} is null and no loaded plugin offers one
     */
    public SampleGuest sampleGuest(String archId) {
        List<Loaded> offering = loaded.stream().filter(l -> l.arch().sampleGuest().isPresent())
                .sorted(Comparator.comparing(Loaded::pluginId).thenComparing(l -> l.arch().id())).toList();
        List<String> ids = offering.stream().map(l -> l.arch().id()).toList();
        if (archId == null) {
            return offering.stream().findFirst().flatMap(l -> l.arch().sampleGuest()).orElseThrow(() ->
                    new UnsupportedGuestException("no loaded plugin offers a sample guest (loaded: "
                            + loaded.stream().map(Loaded::pluginId).toList() + "); drop a plugin jar that has one into "
                            + "a plugins directory (guestdump.plugins.dirs), or dump a guest of your own"));
        }
        Loaded chosen = loaded.stream().filter(l -> l.arch().id().equals(archId)).findFirst().orElseThrow(() ->
                new InvalidInputException("guestdump.sample-arch = " + archId + " is not a loaded architecture; "
                        + "these offer a sample guest: " + ids + " (guestdump archs lists them all)"));
        return chosen.arch().sampleGuest().orElseThrow(() -> new InvalidInputException("guestdump.sample-arch = "
                + archId + ": " + chosen.describe() + " offers no sample guest; these do: " + ids));
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
        private QuietPluginManager manager;

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
            String id = archIdOf(w != null ? w.getPluginId() : classpathPlugin(type)[0]);
            if (id == null) {
                return ConfigFactory.empty();
            }
            String path = "guestdump.arch.\"" + id + "\"";
            return full.hasPath(path) ? full.getConfig(path) : ConfigFactory.empty();
        }
    }

    /**
     * The {@code Plugin-Id} and {@code Plugin-Version} of an extension found on the class path (a plugin jar used as
     * an ordinary dependency), from its jar's manifest or {@code plugin.properties}; {@code classpath} and {@code -}
     * when it has neither.
     */
    static String[] classpathPlugin(Class<?> type) {
        try {
            // the class's own jar: asking its loader for META-INF/MANIFEST.MF may answer from another jar
            java.net.URL own = type.getProtectionDomain().getCodeSource().getLocation();
            java.util.jar.Manifest mf = null;
            Path p = Path.of(own.toURI());
            if (Files.isRegularFile(p)) {
                try (java.util.jar.JarFile jar = new java.util.jar.JarFile(p.toFile())) {
                    mf = jar.getManifest();
                    java.util.jar.JarEntry props = jar.getJarEntry("plugin.properties");
                    if ((mf == null || mf.getMainAttributes().getValue("Plugin-Id") == null) && props != null) {
                        java.util.Properties pp = new java.util.Properties();
                        try (java.io.InputStream pin = jar.getInputStream(props)) {
                            pp.load(pin);
                        }
                        return new String[] {pp.getProperty("plugin.id", "classpath"),
                                pp.getProperty("plugin.version", "-")};
                    }
                }
            } else if (Files.isRegularFile(p.resolve("META-INF/MANIFEST.MF"))) {
                try (java.io.InputStream min = Files.newInputStream(p.resolve("META-INF/MANIFEST.MF"))) {
                    mf = new java.util.jar.Manifest(min);
                }
            }
            if (mf != null && mf.getMainAttributes().getValue("Plugin-Id") != null) {
                String v = mf.getMainAttributes().getValue("Plugin-Version");
                return new String[] {mf.getMainAttributes().getValue("Plugin-Id"), v == null ? "-" : v};
            }
        } catch (Exception e) {
            LOG.debug("no plugin id for {}", type.getName(), e);
        }
        return new String[] {"classpath", "-"};
    }

    /** The config subtree name of a plugin: its id without the {@code arch-} prefix. */
    public static String archIdOf(String pluginId) {
        return pluginId.startsWith("arch-") ? pluginId.substring("arch-".length()) : pluginId;
    }
}
