package io.guestdump.core.source;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigSyntax;
import io.guestdump.arch.api.InvalidInputException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Map;

/**
 * A snapshot's {@code memory = [ { … }, … ]} (or {@code cpus = [ … ]}) list kept as text and read one element at a
 * time, so that a snapshot of 100,000 blocks does not hold 100,000 parsed HOCON objects (with their origins and
 * syntax trees, about 2.5 KiB a block) at once. Each element is still parsed by the HOCON parser, alone, when it is
 * read; a list is taken out of the text only where that gives exactly what parsing it in place gives:
 *
 * <ul>
 *   <li>its key ends in {@code memory} or {@code cpus} and is followed by {@code =} or {@code :} (not {@code +=}),
 *       on one line with the {@code [};</li>
 *   <li>every element is one {@code { … }} object, separated by a comma or a new line, with no {@code ${…}}
 *       substitution, no {@code include} and no triple-quoted string in it;</li>
 *   <li>nothing but a comment, a comma, a new line or a closing brace follows its {@code ]} (no concatenation).</li>
 * </ul>
 *
 * The list's text is replaced by a string no snapshot can contain (a random marker), padded with its new lines so
 * every later line keeps its number. The whole file is then parsed as HOCON; if {@code guest.memory} or
 * {@code guest.cpus} holds a marker string that is not exactly one list's marker (the list was concatenated with
 * something), the original text is parsed instead, so the semantics are always HOCON's.
 */
final class LeanList {
    private static final SecureRandom RANDOM = new SecureRandom();

    /** The keys whose lists are taken out of the text. */
    static final java.util.List<String> KEYS = java.util.List.of("memory", "cpus");

    private final String text;
    private final String key;
    private final String marker;
    private int[] starts = new int[16];
    private int[] ends = new int[16];
    private int[] lines = new int[16];
    private int size;

    private LeanList(String text, String key, String marker) {
        this.text = text;
        this.key = key;
        this.marker = marker;
    }

    /** The string standing in for this list in the parsed snapshot. */
    String marker() {
        return marker;
    }

    /** Elements in the list. */
    int size() {
        return size;
    }

    /** The 1-based line of element {@code i}'s opening brace. */
    int line(int i) {
        return lines[i];
    }

    /** Element {@code i}, parsed alone; a syntax error names {@code file} and the line. */
    Config element(int i, Path file) {
        String element = text.substring(starts[i], ends[i]);
        try {
            return ConfigFactory.parseString(element, ConfigParseOptions.defaults().setAllowMissing(false)
                    .setSyntax(ConfigSyntax.CONF));
        } catch (ConfigException e) {
            int at = e.origin() != null && e.origin().lineNumber() > 0 ? lines[i] + e.origin().lineNumber() - 1
                    : lines[i];
            String message = e.getMessage() == null ? "" : e.getMessage().replace('\n', ' ').replace('\r', ' ');
            throw new InvalidInputException("snapshot " + file + ":" + at + ": guest." + key + "[" + i + "] is not valid "
                    + "HOCON: " + message, e);
        }
    }

    /**
     * Takes every list that qualifies out of {@code text}, adding it to {@code lists} by marker; returns the text
     * with each replaced by its quoted marker (the text itself when none qualifies).
     */
    static String takeOut(String text, Map<String, LeanList> lists) {
        StringBuilder out = null;
        int copied = 0;
        int line = 1;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\n') {
                line++;
            } else if (c == '"') {
                int end = skipString(text, i);
                for (int k = i; k < end; k++) {
                    if (text.charAt(k) == '\n') {
                        line++; // a triple-quoted string spans lines
                    }
                }
                i = end - 1;
            } else if (c == '#' || (c == '/' && text.startsWith("//", i))) {
                i = lineEnd(text, i) - 1;
            } else if (c == '[' && key(text, i) != null) {
                byte[] nonce = new byte[12];
                RANDOM.nextBytes(nonce);
                String key = key(text, i);
                LeanList list = new LeanList(text, key, "guestdump-" + key + "-list-"
                        + HexFormat.of().formatHex(nonce));
                int end = list.scan(i, line);
                if (end < 0) {
                    continue;
                }
                if (out == null) {
                    out = new StringBuilder(text.length() / 8 + 64);
                }
                int newlines = 0;
                for (int k = i; k < end; k++) {
                    if (text.charAt(k) == '\n') {
                        newlines++;
                    }
                }
                out.append(text, copied, i).append('"').append(list.marker).append('"').append("\n".repeat(newlines));
                copied = end;
                lists.put(list.marker, list);
                line += newlines;
                i = end - 1;
            }
        }
        if (out == null) {
            return text;
        }
        return out.append(text, copied, text.length()).toString();
    }

    /** The key in {@link #KEYS} whose value the {@code [} at {@code at} opens, on its line; or null. */
    private static String key(String text, int at) {
        int i = skipBlanksBack(text, at - 1);
        if (i < 0 || (text.charAt(i) != '=' && text.charAt(i) != ':')) {
            return null;
        }
        if (text.charAt(i) == '=' && i > 0 && text.charAt(i - 1) == '+') {
            return null;
        }
        i = skipBlanksBack(text, i - 1);
        int keyEnd = i + 1;
        if (i >= 0 && text.charAt(i) == '"') {
            keyEnd = i;
            i--;
        }
        for (String key : KEYS) {
            int start = keyEnd - key.length();
            if (start < 0 || !text.startsWith(key, start)) {
                continue;
            }
            if (keyEnd != i + 1) { // quoted: "memory"
                return start > 0 && text.charAt(start - 1) == '"' ? key : null;
            }
            char before = start == 0 ? '\n' : text.charAt(start - 1);
            return before == '.' || before == '{' || before == ',' || Character.isWhitespace(before) ? key : null;
        }
        return null;
    }

    private static int skipBlanksBack(String text, int i) {
        while (i >= 0 && (text.charAt(i) == ' ' || text.charAt(i) == '\t')) {
            i--;
        }
        return i;
    }

    /**
     * Reads the elements of the list whose {@code [} is at {@code open} on {@code line}; returns the offset just
     * past its {@code ]}, or -1 when the list does not qualify.
     */
    private int scan(int open, int line) {
        int i = open + 1;
        boolean separated = true;
        while (true) {
            // blanks, new lines, comments and at most one comma between elements
            int commas = 0;
            while (i < text.length()) {
                char c = text.charAt(i);
                if (c == '\n') {
                    line++;
                    separated = true;
                } else if (c == ',') {
                    if (++commas > 1) {
                        return -1;
                    }
                    separated = true;
                } else if (c == '#' || (c == '/' && text.startsWith("//", i))) {
                    i = lineEnd(text, i);
                    continue;
                } else if (!Character.isWhitespace(c)) {
                    break;
                }
                i++;
            }
            if (i >= text.length()) {
                return -1;
            }
            char c = text.charAt(i);
            if (c == ']') {
                return afterList(i + 1) ? i + 1 : -1;
            }
            if (c != '{' || !separated || (commas > 0 && size == 0)) {
                return -1;
            }
            int start = i;
            int startLine = line;
            int depth = 0;
            for (; i < text.length(); i++) {
                char d = text.charAt(i);
                if (d == '\n') {
                    line++;
                } else if (d == '"') {
                    if (text.startsWith("\"\"\"", i)) {
                        return -1;
                    }
                    int end = skipString(text, i);
                    if (end > text.length() || text.charAt(end - 1) != '"' || end - 1 == i) {
                        return -1; // an unterminated string: the HOCON parser reports it
                    }
                    i = end - 1;
                } else if (d == '#' || (d == '/' && text.startsWith("//", i))) {
                    i = lineEnd(text, i) - 1;
                } else if (d == '$' && text.startsWith("${", i)) {
                    return -1;
                } else if (d == 'i' && text.startsWith("include", i)) {
                    return -1;
                } else if (d == '{' || d == '[') {
                    depth++;
                } else if (d == '}' || d == ']') {
                    if (--depth == 0) {
                        break;
                    }
                }
            }
            if (i >= text.length() || text.charAt(i) != '}') {
                return -1;
            }
            add(start, i + 1, startLine);
            i++;
            separated = false;
        }
    }

    /** Whether what follows a list's {@code ]} ends its value: blanks, then a comment, comma, new line or brace. */
    private boolean afterList(int i) {
        while (i < text.length() && (text.charAt(i) == ' ' || text.charAt(i) == '\t')) {
            i++;
        }
        if (i >= text.length()) {
            return true;
        }
        char c = text.charAt(i);
        return c == '\n' || c == '\r' || c == ',' || c == '}' || c == '#' || text.startsWith("//", i);
    }

    private void add(int start, int end, int line) {
        if (size == starts.length) {
            starts = Arrays.copyOf(starts, size * 2);
            ends = Arrays.copyOf(ends, size * 2);
            lines = Arrays.copyOf(lines, size * 2);
        }
        starts[size] = start;
        ends[size] = end;
        lines[size] = line;
        size++;
    }

    /** The offset just past the string opening at {@code i} (its closing quote, or the end of the line). */
    private static int skipString(String text, int i) {
        if (text.startsWith("\"\"\"", i)) {
            int end = text.indexOf("\"\"\"", i + 3);
            return end < 0 ? text.length() : end + 3;
        }
        for (i++; i < text.length() && text.charAt(i) != '\n'; i++) {
            if (text.charAt(i) == '\\') {
                i++;
            } else if (text.charAt(i) == '"') {
                return i + 1;
            }
        }
        return i;
    }

    private static int lineEnd(String text, int i) {
        int end = text.indexOf('\n', i);
        return end < 0 ? text.length() : end;
    }
}
