package io.guestdump.core.source;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigIncludeContext;
import com.typesafe.config.ConfigIncluder;
import com.typesafe.config.ConfigIncluderClasspath;
import com.typesafe.config.ConfigIncluderFile;
import com.typesafe.config.ConfigIncluderURL;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigResolveOptions;
import com.typesafe.config.ConfigSyntax;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import io.guestdump.arch.api.InvalidInputException;
import java.io.File;
import java.io.IOException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * Reads a snapshot's HOCON as data, not as a program. The trust model (docs/snapshot-format.md): a snapshot may
 * name any file the user running guestdump can read (its memory, register and VMCOREINFO files, by relative or
 * absolute path), exactly like a command-line argument; it can do nothing else:
 *
 * <ul>
 *   <li>{@code include url(...)} and {@code include classpath(...)} are refused (no network, no class path);</li>
 *   <li>{@code include "x.conf"} / {@code include file("x.conf")} must name a file inside the snapshot's own
 *       directory tree (no absolute path, no {@code ..} out of it), and nest at most {@value #MAX_INCLUDES}
 *       deep;</li>
 *   <li>{@code ${VAR}} is resolved only within the snapshot, never from the environment or system properties;</li>
 *   <li>the file is at most {@value #MAX_BYTES} bytes and nests at most {@value #MAX_DEPTH} levels (checked before
 *       the HOCON parser, which recurses, sees it).</li>
 * </ul>
 */
final class SnapshotParser {
    /** The largest snapshot file read (100,000 blocks take about 10 MiB). */
    static final long MAX_BYTES = 64L << 20;
    /** The deepest nesting of objects and arrays accepted; a snapshot needs 4. */
    static final int MAX_DEPTH = 64;
    /** The deepest chain of includes accepted. */
    static final int MAX_INCLUDES = 8;

    private SnapshotParser() {}

    /**
     * A parsed snapshot: the resolved root, and the {@code memory} lists read by {@link LeanList} rather than by
     * the HOCON parser. Where such a list was taken out of the text, the root holds its {@link LeanList#marker()}
     * string in its place.
     *
     * @param root  the resolved root
     * @param lists the lists taken out, by marker
     */
    record Parsed(Config root, Map<String, LeanList> lists) {
        /** The list whose marker {@code value} is, or null when {@code value} is an ordinary value. */
        LeanList list(ConfigValue value) {
            return value.valueType() == ConfigValueType.STRING ? lists.get((String) value.unwrapped()) : null;
        }
    }

    /** The resolved root of the snapshot at {@code file} (a regular text file, checked by the caller). */
    static Parsed parse(Path file) {
        Path root = file.toAbsolutePath().normalize().getParent();
        try {
            String text = checkShape(file);
            ConfigParseOptions options = ConfigParseOptions.defaults().setAllowMissing(false)
                    .setSyntax(ConfigSyntax.CONF).setIncluder(new Confined(root, file, 0))
                    .setOriginDescription(file.toString());
            ConfigResolveOptions resolve = ConfigResolveOptions.defaults().setUseSystemEnvironment(false);
            Map<String, LeanList> lists = new HashMap<>();
            String lean = LeanList.takeOut(text, lists);
            if (!lists.isEmpty()) {
                try {
                    Config config = ConfigFactory.parseString(lean, options).resolve(resolve);
                    if (leanValuesAreWhole(config, lists)) {
                        checkUnread(config, lists, file);
                        return new Parsed(config, lists);
                    }
                } catch (ConfigException e) {
                    // the list was not a plain value after all (e.g. concatenated): the general parser decides
                }
            }
            return new Parsed(ConfigFactory.parseString(text, options).resolve(resolve), Map.of());
        } catch (ConfigException e) {
            throw new InvalidInputException("snapshot " + file + " is not valid HOCON: " + oneLine(e.getMessage())
                    + (e instanceof ConfigException.UnresolvedSubstitution ? " (substitutions are resolved within "
                            + "the snapshot only, never from the environment)" : ""), e);
        } catch (StackOverflowError e) {
            throw new InvalidInputException("snapshot " + file + " nests too deeply to be a snapshot");
        }
    }

    /**
     * Whether every {@code guest} key a list may stand in for is either an ordinary value or exactly one list's
     * marker; a value that merely contains a marker (a list concatenated with something) means the text must be
     * parsed as it is.
     */
    private static boolean leanValuesAreWhole(Config config, Map<String, LeanList> lists) {
        if (!(config.root().get("guest") instanceof ConfigObject guest)) {
            return true; // no guest block: the caller refuses the snapshot, whatever the lists were
        }
        for (String key : LeanList.KEYS) {
            ConfigValue v = guest.get(key);
            if (v != null && v.valueType() == ConfigValueType.STRING && !lists.containsKey((String) v.unwrapped())
                    && ((String) v.unwrapped()).contains("guestdump-")) {
                return false;
            }
        }
        return true;
    }

    /**
     * Parses every element of the lists the guest does not use (overridden, or outside {@code guest}), so that a
     * syntax error in them is refused as HOCON would refuse it; the lists the guest uses are parsed when read.
     */
    private static void checkUnread(Config config, Map<String, LeanList> lists, Path file) {
        java.util.Set<String> used = new java.util.HashSet<>();
        if (config.root().get("guest") instanceof ConfigObject guest) {
            for (String key : LeanList.KEYS) {
                ConfigValue v = guest.get(key);
                if (v != null && v.valueType() == ConfigValueType.STRING) {
                    used.add((String) v.unwrapped());
                }
            }
        }
        for (LeanList list : lists.values()) {
            if (!used.contains(list.marker())) {
                for (int i = 0; i < list.size(); i++) {
                    list.element(i, file);
                }
            }
        }
    }

    private static String oneLine(String s) {
        return s == null ? "" : s.replace('\n', ' ').replace('\r', ' ');
    }

    /** Refuses a file too large or nested too deep, by a scan that skips strings and comments; returns the text. */
    private static String checkShape(Path file) {
        String text;
        try {
            long size = Files.size(file);
            if (size > MAX_BYTES) {
                throw new InvalidInputException("snapshot " + file + " is " + size + " bytes, more than the "
                        + MAX_BYTES + " a snapshot may have; see docs/snapshot-format.md");
            }
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (java.nio.charset.MalformedInputException e) {
            throw new InvalidInputException("snapshot " + file + " is not UTF-8 text");
        } catch (IOException e) {
            throw new InvalidInputException("cannot read snapshot " + file + ": " + e.getMessage(), e);
        }
        int depth = 0;
        int line = 1;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\n') {
                line++;
            } else if (c == '"') {
                if (text.startsWith("\"\"\"", i)) {
                    int end = text.indexOf("\"\"\"", i + 3);
                    i = end < 0 ? text.length() : end + 2;
                } else {
                    for (i++; i < text.length() && text.charAt(i) != '"' && text.charAt(i) != '\n'; i++) {
                        if (text.charAt(i) == '\\') {
                            i++;
                        }
                    }
                }
            } else if (c == '#' || (c == '/' && text.startsWith("//", i))) {
                while (i < text.length() && text.charAt(i) != '\n') {
                    i++;
                }
                i--;
            } else if (c == '{' || c == '[') {
                if (++depth > MAX_DEPTH) {
                    throw new InvalidInputException("snapshot " + file + ":" + line + ": nested more than "
                            + MAX_DEPTH + " levels deep; a snapshot needs 4 (see docs/snapshot-format.md)");
                }
            } else if (c == '}' || c == ']') {
                depth = Math.max(0, depth - 1);
            }
        }
        return text;
    }

    /** Includes confined to the snapshot's directory tree; no URL, no class path. */
    private record Confined(Path root, Path from, int level)
            implements ConfigIncluder, ConfigIncluderFile, ConfigIncluderURL, ConfigIncluderClasspath {
        @Override
        public ConfigIncluder withFallback(ConfigIncluder fallback) {
            return this; // never fall back to the default includer (which would fetch URLs)
        }

        @Override
        public ConfigObject include(ConfigIncludeContext context, String what) {
            return includeFile(context, new File(what));
        }

        @Override
        public ConfigObject includeFile(ConfigIncludeContext context, File what) {
            Path p = what.toPath();
            Path target = from.getParent().resolve(p).normalize();
            if (p.isAbsolute() || !target.startsWith(root)) {
                throw new InvalidInputException("snapshot " + from + ": include \"" + what + "\" leaves the "
                        + "snapshot's directory " + root + "; includes must name files inside it (relative, no "
                        + "'..' out of it); see docs/snapshot-format.md");
            }
            if (level >= MAX_INCLUDES) {
                throw new InvalidInputException("snapshot " + from + ": includes nest more than " + MAX_INCLUDES
                        + " deep");
            }
            // like HOCON: a missing heuristic include is ignored; a present one must be a regular text file
            if (!Files.exists(target)) {
                return ConfigFactory.empty().root();
            }
            SourceFiles.requireRegular(target, "snapshot include");
            SourceFiles.requireText(target, "snapshot include");
            checkShape(target);
            return ConfigFactory.parseFile(target.toFile(), context.parseOptions().setAllowMissing(false)
                    .setSyntax(ConfigSyntax.CONF).setIncluder(new Confined(root, target, level + 1))).root();
        }

        @Override
        public ConfigObject includeURL(ConfigIncludeContext context, URL what) {
            throw new InvalidInputException("snapshot " + from + ": include url(" + what + ") is refused: a "
                    + "snapshot reads no URLs; copy the file beside the snapshot and include it by name");
        }

        @Override
        public ConfigObject includeResources(ConfigIncludeContext context, String what) {
            throw new InvalidInputException("snapshot " + from + ": include classpath(" + what + ") is refused; "
                    + "include a file beside the snapshot by name");
        }
    }
}
