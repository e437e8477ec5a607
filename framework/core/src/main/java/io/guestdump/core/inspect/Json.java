package io.guestdump.core.inspect;

import java.math.BigInteger;

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
        io.guestdump.core.source.qmp.Json.write(value, sb, Json::leaf);
        return sb.toString();
    }

    /** Whole numbers as numbers, booleans and null as themselves, anything else as its string. */
    private static void leaf(Object v, StringBuilder sb) {
        if (v == null) {
            sb.append("null");
        } else if (v instanceof Integer || v instanceof Long || v instanceof BigInteger || v instanceof Short
                || v instanceof Boolean) {
            sb.append(v);
        } else {
            io.guestdump.core.source.qmp.Json.quote(v.toString(), sb);
        }
    }
}
