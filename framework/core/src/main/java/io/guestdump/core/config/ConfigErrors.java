package io.guestdump.core.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValue;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Configuration errors for people: the key, the value, where it was set and what is expected, instead of
 * Typesafe Config's "has type STRING rather than NUMBER"; and the unknown keys under {@code guestdump.} with the
 * closest known one.
 */
public final class ConfigErrors {
    /** Typesafe Config's {@code WrongType} text: "ORIGIN: PATH has type ACTUAL rather than EXPECTED". */
    private static final Pattern WRONG_TYPE = Pattern.compile("(\\S+) has type (\\w+) rather than (.+)$");
    /** Typesafe Config's {@code BadValue} text: "ORIGIN: Invalid value at 'PATH': WHY". */
    private static final Pattern BAD_VALUE = Pattern.compile("Invalid value at '([^']+)': (.+)$");
    /** Layers whose keys are not checked for typos: the JVM's system properties hold the launcher's own. */
    private static final String SYSTEM_PROPERTIES = "system properties";

    private ConfigErrors() {}

    /**
     * One line naming the key, its value, its origin and what is expected.
     *
     * @param e      the error a getter threw
     * @param config the resolved configuration it was read from (for the value); may be null
     */
    public static String describe(ConfigException e, Config config) {
        String text = e.getMessage() == null ? e.toString() : e.getMessage();
        String origin = e.origin() == null ? null : e.origin().description();
        String path;
        String expected;
        Matcher wrong = WRONG_TYPE.matcher(text);
        Matcher bad = BAD_VALUE.matcher(text);
        if (e instanceof ConfigException.ValidationFailed v && v.problems().iterator().hasNext()) {
            ConfigException.ValidationProblem p = v.problems().iterator().next();
            path = p.path();
            origin = p.origin() == null ? origin : p.origin().description();
            expected = p.problem();
        } else if (wrong.find()) {
            path = wrong.group(1);
            expected = "expected " + wrong.group(3).toLowerCase().replace("list", "a list").replace("object",
                    "an object") + ", not " + wrong.group(2).toLowerCase();
        } else if (bad.find()) {
            path = bad.group(1);
            expected = bad.group(2);
        } else {
            return "configuration error: " + text + "; check config/guestdump.conf, --config files and -D settings";
        }
        Optional<Map.Entry<String, ConfigValue>> found;
        try {
            found = find(config, path, origin);
        } catch (ConfigException unresolved) {
            found = Optional.empty();
        }
        String key = found.map(Map.Entry::getKey).orElse(path);
        String value = found.map(f -> f.getValue().render(ConfigRenderOptions.concise())).orElse("?");
        String where = origin == null ? "" : " (set in " + origin.replaceFirst(": 1$", "") + ")";
        return "configuration: " + key + " = " + value + where + " is not valid: " + expected
                + "; fix the setting or remove it to use the default";
    }

    /** The value at {@code path}; a plugin reads its subtree, so a relative path is matched by its tail. */
    private static Optional<Map.Entry<String, ConfigValue>> find(Config config, String path, String origin) {
        if (config == null) {
            return Optional.empty();
        }
        try {
            if (config.hasPathOrNull(path)) {
                return Optional.of(Map.entry(path, config.getValue(path)));
            }
        } catch (ConfigException ignored) {
            // not a valid path expression: look for it as a tail below
        }
        for (Map.Entry<String, ConfigValue> e : config.entrySet()) {
            if (e.getKey().endsWith("." + path) && (origin == null || e.getValue().origin() != null
                    && origin.equals(e.getValue().origin().description()))) {
                return Optional.of(e);
            }
        }
        return Optional.empty();
    }

    /**
     * Keys under {@code guestdump.} that no reference configuration knows, each with its origin and the closest
     * known key (one warning line each). Keys set as Java system properties are left out (the launcher's own).
     *
     * @param user      the user layers
     * @param reference every reference configuration known (framework and plugins)
     */
    public static List<String> unknownKeys(Config user, Config reference) {
        List<String> known = reference.hasPath("guestdump")
                ? reference.getConfig("guestdump").entrySet().stream().map(e -> "guestdump." + e.getKey()).toList()
                : List.of();
        List<String> out = new ArrayList<>();
        if (!user.hasPath("guestdump")) {
            return out;
        }
        for (Map.Entry<String, ConfigValue> e : user.getConfig("guestdump").entrySet()) {
            String key = "guestdump." + e.getKey();
            String origin = e.getValue().origin() == null ? "?" : e.getValue().origin().description();
            if (origin.startsWith(SYSTEM_PROPERTIES) || known.contains(key) || unjudged(key, reference)) {
                continue;
            }
            String closest = known.stream().min((a, b) -> Integer.compare(distance(key, a), distance(key, b)))
                    .orElse("none");
            out.add("unknown setting " + key + " (set in " + origin.replaceFirst(": 1$", "")
                    + ") is ignored; did you mean " + closest + "?");
        }
        return out;
    }

    /**
     * Keys nobody can judge here: inside a map whose keys the user chooses ({@code gdbstub-registers}), or under
     * {@code guestdump.arch.ID} of a plugin whose reference configuration is not in {@code reference}.
     */
    private static boolean unjudged(String key, Config reference) {
        if (key.startsWith("guestdump.source.qmp.gdbstub-registers.")) {
            return true;
        }
        String[] parts = key.split("\\.");
        if (parts.length >= 3 && parts[1].equals("arch")) {
            try {
                return !reference.hasPath("guestdump.arch." + parts[2]);
            } catch (ConfigException e) {
                return true;
            }
        }
        return false;
    }

    /** Levenshtein distance. */
    static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
