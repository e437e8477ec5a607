package io.guestdump.core.inspect;

import java.math.BigInteger;
import java.util.List;
import java.util.Map;

/**
 * The JSON that {@code info --json} and {@code archs --json} print: objects in insertion order, numbers exact
 * (unsigned 64-bit values as {@link BigInteger} above {@link Long#MAX_VALUE}), strings escaped per RFC 8259.
 */
public final class Json {
    /** The version of the documented schema (docs/json-schema.md); raised on an incompatible change. */
    public static final int SCHEMA = 1;

    private Json() {}

    /** An unsigned 64-bit value as an exact JSON number. */
    public static Number u64(long v) {
        return v >= 0 ? (Number) v : new BigInteger(Long.toUnsignedString(v));
    }

    /** {@code value} (maps, lists, strings, numbers, booleans, null) as one line of JSON. */
    public static String render(Object value) {
        StringBuilder sb = new StringBuilder();
        write(sb, value);
        return sb.toString();
    }

    private static void write(StringBuilder sb, Object v) {
        if (v == null) {
            sb.append("null");
        } else if (v instanceof Map<?, ?> m) {
            sb.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : m.entrySet()) {
                if (!first) {
                    sb.append(',');
                }
                first = false;
                string(sb, String.valueOf(e.getKey()));
                sb.append(':');
                write(sb, e.getValue());
            }
            sb.append('}');
        } else if (v instanceof List<?> l) {
            sb.append('[');
            for (int i = 0; i < l.size(); i++) {
                if (i > 0) {
                    sb.append(',');
                }
                write(sb, l.get(i));
            }
            sb.append(']');
        } else if (v instanceof Integer || v instanceof Long || v instanceof BigInteger || v instanceof Short) {
            sb.append(v);
        } else if (v instanceof Boolean) {
            sb.append(v);
        } else {
            string(sb, v.toString());
        }
    }

    private static void string(StringBuilder sb, String s) {
        io.guestdump.core.source.qmp.Json.quote(s, sb);
    }
}
