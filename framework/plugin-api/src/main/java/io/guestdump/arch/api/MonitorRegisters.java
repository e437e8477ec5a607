package io.guestdump.arch.api;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The skeleton every parser of QEMU's HMP {@code info registers -a} text shares; a plugin supplies only its line
 * grammar ({@link Grammar}). The skeleton:
 *
 * <ul>
 *   <li>splits the text into lines (any line break), strips them and skips blank ones;</li>
 *   <li>starts a vCPU at each header line, {@code CPU#<n>} alone on its line; indexes must ascend (each vCPU
 *       once), and a register line before the first header is an error, unless the grammar accepts one vCPU
 *       without a header ({@link Grammar#headerless()}, QEMU's {@code info registers} without {@code -a});</li>
 *   <li>hands every other line of a vCPU to the grammar, split into whitespace-separated tokens;</li>
 *   <li>refuses a register given twice for one vCPU ({@link Cpu#put});</li>
 *   <li>at the end of each vCPU checks the grammar's required registers, so a truncated paste cannot pass for
 *       zero registers, and runs the grammar's own final step (a check, or a fix-up of what the monitor prints
 *       differently from the state, {@link Cpu#replace});</li>
 *   <li>refuses text without any vCPU.</li>
 * </ul>
 *
 * Every error has one format, naming the file and the line: {@code <source> line <n>: <what>: `<line>`. <fix>},
 * or {@code <source> line <n>: CPU#<i> <what>. <fix>} for a vCPU as a whole.
 */
public final class MonitorRegisters {
    private static final Pattern HEADER = Pattern.compile("CPU#(\\d{1,9})");

    private MonitorRegisters() {}

    /** A plugin's line grammar. */
    public interface Grammar {
        /** Reads one line of a vCPU's section (not blank, not a header) into {@code cpu}; errors via {@link Line#error}. */
        void line(Line line, Cpu cpu);

        /**
         * The registers every vCPU must have once its section ends, each with the label the monitor prints it
         * under (for the message), e.g. {@code "rip" → "RIP"}. The default requires none.
         */
        default List<Required> required(Cpu cpu) {
            return List.of();
        }

        /**
         * The last step of a finished vCPU: a check (e.g. two register sets that exclude each other; errors via
         * {@link Cpu#error}) or a fix-up of values the monitor prints masked ({@link Cpu#replace}).
         */
        default void finish(Cpu cpu) {}

        /**
         * Whether one vCPU may come without a {@code CPU#<n>} header, as QEMU's {@code info registers} (no
         * {@code -a}) prints the current vCPU: its first register line then starts CPU#0, and a header after it is
         * an error. The default is false.
         */
        default boolean headerless() {
            return false;
        }

        /** What the user should do, ending every message, e.g. "Paste the output of `info registers -a` unchanged." */
        default String fix() {
            return "Pass the unchanged output of the QEMU monitor command `info registers -a`.";
        }
    }

    /**
     * A register every vCPU must have.
     *
     * @param register the plugin's register name
     * @param label    how the monitor prints it
     */
    public record Required(String register, String label) {}

    /** Parses the whole text into one state per {@code CPU#n} section, in text order. */
    public static List<VcpuState> parse(String text, String sourceName, Grammar grammar) {
        List<VcpuState> cpus = new ArrayList<>();
        String[] lines = text.split("\\R", -1);
        Cpu current = null;
        for (int i = 0; i < lines.length; i++) {
            String raw = lines[i];
            String stripped = raw.strip();
            if (stripped.isEmpty()) {
                continue;
            }
            Line line = new Line(sourceName, i + 1, raw, stripped.split("\\s+"), grammar.fix());
            Matcher header = HEADER.matcher(stripped);
            if (header.matches()) {
                if (current != null && current.implicit) {
                    throw line.error("a `CPU#<n>` header follows register lines that had none; give either one vCPU "
                            + "without a header (`info registers`) or every vCPU with its header (`info registers -a`)");
                }
                int index = Integer.parseInt(header.group(1));
                int last = current != null ? current.index : cpus.isEmpty() ? -1 : cpus.get(cpus.size() - 1).index();
                if (index <= last) {
                    throw line.error("CPU#" + index + " follows CPU#" + last
                            + "; vCPU sections must appear once each, in ascending order");
                }
                if (current != null) {
                    cpus.add(current.finish(grammar, i + 1));
                }
                current = new Cpu(index, i + 1, sourceName, grammar.fix());
                continue;
            }
            if (current == null && grammar.headerless() && cpus.isEmpty()) {
                current = new Cpu(0, i + 1, sourceName, grammar.fix());
                current.implicit = true;
            }
            if (current == null) {
                throw line.error("register line before the first `CPU#<n>` header");
            }
            current.line = line;
            grammar.line(line, current);
        }
        if (current != null) {
            cpus.add(current.finish(grammar, lines.length));
        }
        if (cpus.isEmpty()) {
            throw new InvalidInputException(sourceName + ": no `CPU#<n>` section found, so no vCPU is described. "
                    + grammar.fix());
        }
        return List.copyOf(cpus);
    }

    /**
     * One line of the text.
     *
     * @param source the file, for messages
     * @param number its 1-based line number
     * @param raw    the line as written
     * @param tokens the stripped line split at whitespace
     * @param fix    what the user should do
     */
    public record Line(String source, int number, String raw, String[] tokens, String fix) {
        /** {@code <source> line <n>: <what>: `<line>`. <fix>}. */
        public InvalidInputException error(String what) {
            return new InvalidInputException(source + " line " + number + ": " + what + ": `" + raw.strip() + "`. "
                    + fix);
        }

        /** A hex token without {@code 0x}, at most {@code digits} digits (0: any), as an unsigned value. */
        public BigInteger hex(String token, String what, int digits) {
            if (!token.matches("[0-9a-fA-F]+") || (digits > 0 && token.length() > digits)) {
                throw error(what + " value `" + token + "` is not " + (digits > 0 ? "1 to " + digits + " " : "")
                        + "hex digits");
            }
            return new BigInteger(token, 16);
        }
    }

    /** The vCPU being read. */
    public static final class Cpu {
        private final int index;
        private final int headerLine;
        private final String source;
        private final String fix;
        private final VcpuState.Builder builder;
        private Line line;
        private boolean implicit;
        private Object state;

        private Cpu(int index, int headerLine, String source, String fix) {
            this.index = index;
            this.headerLine = headerLine;
            this.source = source;
            this.fix = fix;
            this.builder = VcpuState.builder(index);
        }

        /** The index of its {@code CPU#n} header. */
        public int index() {
            return index;
        }

        /** Whether the register was read already. */
        public boolean has(String register) {
            return builder.has(register);
        }

        /** The value read so far, 0 when absent. */
        public BigInteger value(String register) {
            return builder.value(register);
        }

        /** The registers read so far, in order. */
        public java.util.Map<String, BigInteger> registers() {
            return builder.registers();
        }

        /** Sets a register; refuses one given twice for this vCPU, naming the current line. */
        public void put(String register, BigInteger value) {
            if (builder.has(register)) {
                throw line.error(register + " is given twice for CPU#" + index);
            }
            builder.set(register, value);
        }

        /** Changes a register already read, in a {@link Grammar#finish} fix-up; refuses one not read. */
        public void replace(String register, BigInteger value) {
            if (!builder.has(register)) {
                throw new IllegalStateException("CPU#" + index + " has no " + register + " to replace");
            }
            builder.set(register, value);
        }

        /**
         * The grammar's own state for this vCPU (what it has seen so far, values spread over several lines), made
         * by {@code initial} on first use; the grammar object itself is shared by every parse.
         */
        @SuppressWarnings("unchecked")
        public <T> T state(Supplier<T> initial) {
            if (state == null) {
                state = initial.get();
            }
            return (T) state;
        }

        /** As {@link #put(String, BigInteger)} for an unsigned 64-bit value. */
        public void put(String register, long unsignedValue) {
            put(register, new BigInteger(Long.toUnsignedString(unsignedValue)));
        }

        /** {@code <source> line <header>: CPU#<i> <what>. <fix>}, for the vCPU as a whole. */
        public InvalidInputException error(String what) {
            return new InvalidInputException(source + " line " + headerLine + ": CPU#" + index + " " + what + ". "
                    + fix);
        }

        private VcpuState finish(Grammar grammar, int endLine) {
            List<String> missing = new ArrayList<>();
            for (Required r : grammar.required(this)) {
                if (!builder.has(r.register())) {
                    missing.add(r.label());
                }
            }
            if (!missing.isEmpty()) {
                throw error("lacks " + String.join(", ", missing) + "; the text looks truncated (the section ends "
                        + "before line " + endLine + ")");
            }
            grammar.finish(this);
            return builder.build();
        }
    }
}
