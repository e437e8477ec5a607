package io.guestdump.core;

import com.typesafe.config.Config;
import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.core.config.ConfigLoader;
import io.guestdump.core.config.DumpSettings;
import io.guestdump.core.plugins.ArchitectureRegistry;
import io.guestdump.core.vmcore.ProgressListener;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeSet;
import java.util.function.BooleanSupplier;

/**
 * guestdump for Java programs: loads the architecture plugins once and dumps guests with a builder per dump.
 *
 * <pre>{@code
 * try (GuestDumper dumper = GuestDumper.builder().build()) {      // plugins from the class path
 *     DumpResult r = dumper.dump("snapshot:guest.conf").output(Path.of("guest.vmcore")).run();
 * }
 * }</pre>
 *
 * <p>Plugins are the {@code ArchitectureSupport} extensions on the class path (an {@code arch-*} jar as an
 * ordinary dependency) and the plugin jars in each {@link Builder#pluginDirectory(Path) plugin directory}. The
 * configuration is every {@code reference.conf} under the {@code --config}-like {@link Builder#configFile(Path)
 * files}, Java system properties and {@link Builder#setting(String, Object) settings}, as on the command line.
 * Nothing is logged at INFO: PF4J's lifecycle messages are at DEBUG, problems at WARN (and in
 * {@link #problems()}). A dumper is safe to use from one thread at a time; close it to unload the plugins.
 */
public final class GuestDumper implements AutoCloseable {
    private final ArchitectureRegistry registry;
    private final GuestDump engine;

    private GuestDumper(ArchitectureRegistry registry, GuestDump engine) {
        this.registry = registry;
        this.engine = engine;
    }

    /** A builder with no plugin directory, no configuration file and no setting. */
    public static Builder builder() {
        return new Builder();
    }

    /** Starts describing a dump of {@code source}: {@code snapshot:PATH}, {@code elf:PATH}, {@code qmp:SOCKET}, a path. */
    public Job dump(String source) {
        return new Job(Objects.requireNonNull(source, "source"));
    }

    /** The guest architectures the loaded plugins serve, sorted. */
    public List<String> architectures() {
        TreeSet<String> all = new TreeSet<>();
        registry.all().forEach(l -> all.addAll(l.arch().machines()));
        return List.copyOf(all);
    }

    /** The output format names {@link Job#format(String)} accepts. */
    public List<String> formats() {
        return engine.formatNames();
    }

    /** Plugin jars that were found but did not load, one sentence each. */
    public List<String> problems() {
        return registry.problems();
    }

    /** Unloads the plugins. */
    @Override
    public void close() {
        registry.close();
    }

    /** Where plugins and configuration come from. */
    public static final class Builder {
        private final List<Path> pluginDirs = new ArrayList<>();
        private final List<Path> configFiles = new ArrayList<>();
        private final Map<String, String> settings = new LinkedHashMap<>();

        private Builder() {}

        /** Also loads the plugin jars in {@code dir} (as the command line's {@code plugins/}). Repeatable. */
        public Builder pluginDirectory(Path dir) {
            pluginDirs.add(dir.toAbsolutePath().normalize());
            return this;
        }

        /** A HOCON file layered over the defaults, like {@code --config FILE}; later files win. */
        public Builder configFile(Path file) {
            configFiles.add(file);
            return this;
        }

        /** One configuration key, like {@code -D key=value}; highest precedence. */
        public Builder setting(String key, Object value) {
            settings.put(key, String.valueOf(value));
            return this;
        }

        /** Loads the configuration and the plugins. */
        public GuestDumper build() {
            Config user = ConfigLoader.userLayers(null, configFiles, settings);
            Config full = ConfigLoader.withReference(user, GuestDumper.class.getClassLoader());
            Path cwd = Path.of("").toAbsolutePath();
            DumpSettings dumpSettings = DumpSettings.from(full, cwd, cwd);
            ArchitectureRegistry registry = ArchitectureRegistry.load(pluginDirs, dumpSettings.disabledPlugins(),
                    user);
            return new GuestDumper(registry, new GuestDump(dumpSettings, registry));
        }
    }

    /** One dump: where it goes, in what format, what part of the guest; {@link #run()} performs it. */
    public final class Job {
        private final String source;
        private Path path;
        private WritableByteChannel channel;
        private boolean overwrite;
        private String format = "elf";
        private boolean flattened;
        private Long begin;
        private Long length;
        private boolean paging;
        private ProgressListener progress = ProgressListener.NONE;
        private BooleanSupplier cancelled = () -> false;

        private Job(String source) {
            this.source = source;
        }

        /**
         * Writes to a file: a temporary file beside it, renamed into place when complete; a failed or cancelled
         * dump leaves nothing at {@code file}.
         */
        public Job output(Path file) {
            this.path = file;
            this.channel = null;
            return this;
        }

        /**
         * Writes to a channel, which stays open. The kdump formats need {@link #flattened(boolean)} unless it is an
         * empty {@link FileChannel} at position 0; every other channel (a file with bytes in it, a device, a stream)
         * gets every byte of the dump in order.
         */
        public Job output(WritableByteChannel out) {
            this.channel = out;
            this.path = null;
            return this;
        }

        /** Replace an existing output file (default: refuse). */
        public Job overwrite(boolean replace) {
            this.overwrite = replace;
            return this;
        }

        /** {@code elf} (default), {@code kdump-zlib}, {@code kdump-lzo}, {@code kdump-snappy}, {@code kdump-zstd}. */
        public Job format(String name) {
            this.format = name;
            return this;
        }

        /** makedumpfile's streamable (flattened) kdump form. */
        public Job flattened(boolean streamable) {
            this.flattened = streamable;
            return this;
        }

        /** Dumps only the guest-physical window {@code [begin, begin + length)}, as QEMU's begin/length. */
        public Job filter(long begin, long length) {
            this.begin = begin;
            this.length = length;
            return this;
        }

        /** Builds the PT_LOADs from the guest's page tables. */
        public Job paging(boolean walk) {
            this.paging = walk;
            return this;
        }

        /** Told how many output bytes are written, from the dump's thread. */
        public Job progress(ProgressListener listener) {
            this.progress = Objects.requireNonNull(listener, "listener");
            return this;
        }

        /**
         * Asked before the dump starts and whenever output has been written; when it answers true the dump stops
         * with {@link DumpCancelledException} and leaves no output file.
         */
        public Job cancelWhen(BooleanSupplier cancel) {
            this.cancelled = Objects.requireNonNull(cancel, "cancel");
            return this;
        }

        /**
         * Performs the dump.
         *
         * @throws InvalidInputException          bad source, option or configuration (the message says what to do)
         * @throws io.guestdump.arch.api.UnsupportedGuestException no plugin for the guest, or a guest the format
         *                                        cannot hold
         * @throws io.guestdump.arch.api.VmcoreWriteException writing failed
         * @throws DumpCancelledException         {@link #cancelWhen(BooleanSupplier)} answered true
         */
        public DumpResult run() {
            if (path == null && channel == null) {
                throw new InvalidInputException("no output: call output(Path) or output(WritableByteChannel)");
            }
            checkCancelled();
            ProgressListener checked = (done, total) -> {
                checkCancelled();
                progress.progress(done, total);
            };
            DumpRequest request = new DumpRequest(Optional.of(source), path == null ? "-" : path.toString(),
                    Optional.ofNullable(begin), Optional.ofNullable(length), overwrite, paging, format, flattened);
            if (path != null) {
                return engine.dump(request, checked);
            }
            return engine.dumpTo(request, channel, !flattened && emptyFile(channel), checked);
        }

        /**
         * Whether the caller's channel is an empty file at position 0, which the writers may fill out of order and
         * leave holes in (sparse ELF, the seekable kdump form). Anything else (a file with old bytes in it, a block
         * device) is written front to back, every byte, so nothing old shows through.
         */
        private static boolean emptyFile(WritableByteChannel out) {
            try {
                return out instanceof FileChannel fc && fc.position() == 0 && fc.size() == 0;
            } catch (IOException e) {
                return false;
            }
        }

        private void checkCancelled() {
            if (cancelled.getAsBoolean()) {
                throw new DumpCancelledException("dump of " + source + " cancelled");
            }
        }
    }
}
