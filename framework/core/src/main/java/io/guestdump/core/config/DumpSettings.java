package io.guestdump.core.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import io.guestdump.arch.api.InvalidInputException;
import java.nio.file.Path;
import java.util.List;

/**
 * The framework's settings, read eagerly from {@code guestdump.*}: the only class that sees the framework's
 * {@link Config}. Defaults live in {@code reference.conf}, never here.
 *
 * @param pluginDirs      directories searched for plugin jars, absolute
 * @param disabledPlugins plugin ids to leave unloaded
 * @param overwrite       replace an existing output file
 * @param fsync           fsync the vmcore before renaming it into place
 * @param writeVmcoreinfo write the guest's VMCOREINFO note when known
 * @param vmcoreinfoScan  look for the VMCOREINFO note in guest memory when the source has none
 * @param progressMode    auto, always or never
 * @param progressMinBytes dumps smaller than this show no progress
 * @param sampleArch      the architecture whose sample guest {@code sample:} dumps; null: the first offering one
 * @param sampleDir       where the sample guests' files are, absolute
 * @param sampleSource    the snapshot {@code sample:} dumps, absolute; null: {@code sampleDir} and the sample's name
 * @param config          the whole resolved configuration, for plugins
 */
public record DumpSettings(
        List<Path> pluginDirs,
        List<String> disabledPlugins,
        boolean overwrite,
        boolean fsync,
        boolean writeVmcoreinfo,
        boolean vmcoreinfoScan,
        String progressMode,
        long progressMinBytes,
        String sampleArch,
        Path sampleDir,
        Path sampleSource,
        Config config) {

    /**
     * Reads every key.
     *
     * @param config    resolved configuration (user layers over reference)
     * @param home      the installation directory plugin dirs are relative to
     * @param configDir the configuration directory the sample's files are relative to
     */
    public static DumpSettings from(Config config, Path home, Path configDir) {
        try {
            config.checkValid(ConfigFactory.defaultReference(DumpSettings.class.getClassLoader()), "guestdump");
            Config g = config.getConfig("guestdump");
            List<Path> dirs = g.getStringList("plugins.dirs").stream()
                    .map(d -> home.resolve(d).toAbsolutePath().normalize())
                    .toList();
            String mode = g.getString("progress.mode");
            if (!List.of("auto", "always", "never").contains(mode)) {
                throw new InvalidInputException("guestdump.progress.mode = " + mode
                        + " is not one of auto, always, never");
            }
            return new DumpSettings(
                    dirs,
                    g.getStringList("plugins.disabled"),
                    g.getBoolean("output.overwrite"),
                    g.getBoolean("output.fsync"),
                    g.getBoolean("notes.vmcoreinfo"),
                    g.getBoolean("notes.vmcoreinfo-scan"),
                    mode,
                    g.getBytes("progress.min-bytes"),
                    g.getIsNull("sample-arch") ? null : g.getString("sample-arch"),
                    configDir.resolve(g.getString("sample-dir")).toAbsolutePath().normalize(),
                    g.getIsNull("sample-source") ? null
                            : configDir.resolve(g.getString("sample-source")).toAbsolutePath().normalize(),
                    config);
        } catch (ConfigException e) {
            throw new InvalidInputException(ConfigErrors.describe(e, config), e);
        }
    }
}
