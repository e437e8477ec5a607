package io.guestdump.core.plugins;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.pf4j.AbstractPluginManager;
import org.pf4j.CompoundPluginDescriptorFinder;
import org.pf4j.CompoundPluginLoader;
import org.pf4j.CompoundPluginRepository;
import org.pf4j.DefaultExtensionFactory;
import org.pf4j.DefaultExtensionFinder;
import org.pf4j.DefaultPluginFactory;
import org.pf4j.DefaultPluginLoader;
import org.pf4j.DefaultPluginRepository;
import org.pf4j.DefaultVersionManager;
import org.pf4j.DependencyResolver;
import org.pf4j.ExtensionFactory;
import org.pf4j.ExtensionFinder;
import org.pf4j.JarPluginLoader;
import org.pf4j.JarPluginRepository;
import org.pf4j.ManifestPluginDescriptorFinder;
import org.pf4j.PluginDescriptor;
import org.pf4j.PluginDescriptorFinder;
import org.pf4j.PluginFactory;
import org.pf4j.PluginLoader;
import org.pf4j.PluginRepository;
import org.pf4j.PluginRuntimeException;
import org.pf4j.PluginState;
import org.pf4j.PluginStateEvent;
import org.pf4j.PluginStatusProvider;
import org.pf4j.PluginWrapper;
import org.pf4j.PropertiesPluginDescriptorFinder;
import org.pf4j.RuntimeMode;
import org.pf4j.VersionManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * PF4J's {@code DefaultPluginManager} in deployment mode (jar plugins), without its INFO lines ("PF4J version …",
 * "Enabled plugins", "Plugin … resolved", "Start plugin …", "Unload plugin …"): a program that embeds guestdump
 * logs at INFO, and those lines are ours to report or not. The lifecycle steps that log at INFO are done here
 * and logged at DEBUG; problems are collected by {@link ArchitectureRegistry}, which reports them at WARN.
 */
class QuietPluginManager extends AbstractPluginManager {
    private static final Logger LOG = LoggerFactory.getLogger(QuietPluginManager.class);

    QuietPluginManager(List<Path> roots) {
        super(roots);
    }

    @Override
    public RuntimeMode getRuntimeMode() {
        return RuntimeMode.DEPLOYMENT;
    }

    @Override
    protected PluginDescriptorFinder createPluginDescriptorFinder() {
        // The manifest first: guestdump's plugins describe themselves there, and the properties finder, asked first,
        // opened every jar once more for nothing (a twentieth of archs' start-up). A manifest without Plugin-Id is
        // no description, so a jar with plugin.properties still gets to the second finder.
        return new CompoundPluginDescriptorFinder().add(new ManifestPluginDescriptorFinder() {
            @Override
            public PluginDescriptor find(Path pluginPath) {
                PluginDescriptor d = super.find(pluginPath);
                return d.getPluginId() == null || d.getPluginId().isBlank() ? null : d;
            }
        }).add(new PropertiesPluginDescriptorFinder());
    }

    @Override
    protected ExtensionFinder createExtensionFinder() {
        DefaultExtensionFinder finder = new DefaultExtensionFinder(this);
        addPluginStateListener(finder);
        return finder;
    }

    @Override
    protected PluginFactory createPluginFactory() {
        return new DefaultPluginFactory();
    }

    @Override
    protected ExtensionFactory createExtensionFactory() {
        return new DefaultExtensionFactory();
    }

    /** Every plugin enabled; {@code guestdump.plugins.disabled} is applied by the registry (no enabled.txt). */
    @Override
    protected PluginStatusProvider createPluginStatusProvider() {
        return new PluginStatusProvider() {
            private final Set<String> disabled = new HashSet<>();

            @Override
            public boolean isPluginDisabled(String pluginId) {
                return disabled.contains(pluginId);
            }

            @Override
            public void disablePlugin(String pluginId) {
                disabled.add(pluginId);
            }

            @Override
            public void enablePlugin(String pluginId) {
                disabled.remove(pluginId);
            }
        };
    }

    @Override
    protected PluginRepository createPluginRepository() {
        return new CompoundPluginRepository().add(new JarPluginRepository(getPluginsRoots()))
                .add(new DefaultPluginRepository(getPluginsRoots()));
    }

    @Override
    protected PluginLoader createPluginLoader() {
        return new CompoundPluginLoader().add(new JarPluginLoader(this)).add(new DefaultPluginLoader(this));
    }

    @Override
    protected VersionManager createVersionManager() {
        return new DefaultVersionManager();
    }

    @Override
    public void loadPlugins() {
        List<Path> paths = pluginRepository.getPluginPaths();
        LOG.debug("{} possible plugins: {}", paths.size(), paths);
        for (Path path : paths) {
            try {
                loadPluginFromPath(path);
            } catch (PluginRuntimeException e) {
                LOG.debug("cannot load plugin {}", path, e);
            }
        }
        resolvePlugins();
    }

    @Override
    protected void resolvePlugins() {
        DependencyResolver.Result result = resolveDependencies();
        for (String id : result.getSortedPlugins()) {
            PluginWrapper w = plugins.get(id);
            if (unresolvedPlugins.remove(w)) {
                PluginState before = w.getPluginState();
                if (!before.isDisabled()) {
                    w.setPluginState(PluginState.RESOLVED);
                }
                resolvedPlugins.add(w);
                LOG.debug("plugin {} resolved", label(w));
                firePluginStateEvent(new PluginStateEvent(this, w, before));
            }
        }
    }

    @Override
    public void startPlugins() {
        for (PluginWrapper w : resolvedPlugins) {
            PluginState before = w.getPluginState();
            if (before.isDisabled() || before.isStarted()) {
                continue;
            }
            try {
                LOG.debug("start plugin {}", label(w));
                w.getPlugin().start();
                w.setPluginState(PluginState.STARTED);
                w.setFailedException(null);
                startedPlugins.add(w);
            } catch (Exception | LinkageError e) {
                w.setPluginState(PluginState.FAILED);
                w.setFailedException(e);
                LOG.debug("cannot start plugin {}", label(w), e);
            } finally {
                firePluginStateEvent(new PluginStateEvent(this, w, before));
            }
        }
    }

    /** Stops and unloads every plugin, closing its class loader (dependents first: reverse load order). */
    @Override
    public void unloadPlugins() {
        List<PluginWrapper> all = new ArrayList<>(resolvedPlugins);
        all.addAll(unresolvedPlugins);
        for (int i = all.size() - 1; i >= 0; i--) {
            unloadQuietly(all.get(i));
        }
    }

    @Override
    public boolean unloadPlugin(String pluginId) {
        PluginWrapper w = plugins.get(pluginId);
        if (w == null) {
            return false;
        }
        unloadQuietly(w);
        return true;
    }

    private void unloadQuietly(PluginWrapper w) {
        PluginState before = w.getPluginState();
        if (before.isStarted()) {
            try {
                w.getPlugin().stop();
            } catch (Exception | LinkageError e) {
                LOG.debug("cannot stop plugin {}", label(w), e);
            }
            startedPlugins.remove(w);
        }
        LOG.debug("unload plugin {}", label(w));
        w.setPluginState(PluginState.UNLOADED);
        plugins.remove(w.getPluginId());
        resolvedPlugins.remove(w);
        unresolvedPlugins.remove(w);
        firePluginStateEvent(new PluginStateEvent(this, w, before));
        ClassLoader loader = getPluginClassLoaders().remove(w.getPluginId());
        if (loader instanceof Closeable c) {
            try {
                c.close();
            } catch (IOException e) {
                LOG.debug("cannot close the class loader of {}", label(w), e);
            }
        }
    }

    private static String label(PluginWrapper w) {
        return w.getPluginId() + "@" + w.getDescriptor().getVersion();
    }
}
