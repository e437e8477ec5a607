package io.guestdump.core.source;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import io.guestdump.arch.api.InvalidInputException;
import java.math.BigInteger;

/** Numbers in snapshot files: decimal, {@code "0x…"} hex strings, or HOCON sizes ({@code "512 MiB"}). */
final class ConfigNumbers {
    private static final BigInteger TWO_64 = BigInteger.ONE.shiftLeft(64);

    private ConfigNumbers() {}

    /** An unsigned 64-bit number (addresses, sizes). */
    static long unsigned64(Config c, String key, String where) {
        BigInteger v = parse(c, key, where, true);
        if (v.compareTo(TWO_64) >= 0) {
            throw new InvalidInputException(where + ": " + key + " = " + v.toString(16) + " does not fit 64 bits");
        }
        return v.longValue();
    }

    /** A non-negative integer of any width (register values). */
    static BigInteger unsigned(ConfigValue value, String where) {
        return parseValue(value, where, false);
    }

    private static BigInteger parse(Config c, String key, String where, boolean sizesAllowed) {
        if (!c.hasPath(key)) {
            throw new InvalidInputException(where + ": missing '" + key + "'");
        }
        ConfigValue value = c.getValue(key);
        if (sizesAllowed && value.valueType() == ConfigValueType.STRING) {
            String s = ((String) value.unwrapped()).trim();
            if (!isHex(s) && !s.matches("[0-9_]+")) {
                if (!s.matches("[0-9]+\\s*[A-Za-z]+")) {
                    throw new InvalidInputException(where + ": " + key + " = \"" + s + "\" is not a number; write "
                            + "decimal, \"0x…\" hex, or a whole number of a unit such as \"512 MiB\"");
                }
                try {
                    return BigInteger.valueOf(c.getBytes(key));
                } catch (ConfigException e) {
                    throw new InvalidInputException(where + ": " + key + " = \"" + s + "\" is not a number; write "
                            + "decimal, \"0x…\" hex, or a size such as \"512 MiB\"");
                }
            }
        }
        return parseValue(value, where + ": " + key, true);
    }

    private static BigInteger parseValue(ConfigValue value, String where, boolean quiet) {
        Object raw = value.unwrapped();
        BigInteger v;
        if (value.valueType() == ConfigValueType.NUMBER) {
            if (raw instanceof Double || raw instanceof Float) {
                throw new InvalidInputException(where + " = " + raw + " is not a whole number");
            }
            v = new BigInteger(raw.toString());
        } else if (value.valueType() == ConfigValueType.STRING) {
            String s = ((String) raw).trim().replace("_", "");
            try {
                // ASCII digits only: BigInteger alone takes a sign and any Unicode digit (Arabic-Indic, fullwidth)
                if (!s.matches("0[xX][0-9a-fA-F]+|[0-9]+")) {
                    throw new NumberFormatException(s);
                }
                v = isHex(s) ? new BigInteger(s.substring(2), 16) : new BigInteger(s);
            } catch (NumberFormatException e) {
                throw new InvalidInputException(where + " = \"" + raw + "\" is not a number; write decimal or "
                        + "\"0x…\" hex");
            }
        } else {
            throw new InvalidInputException(where + " is a " + value.valueType().name().toLowerCase()
                    + "; expected a number (decimal or \"0x…\" hex)");
        }
        if (v.signum() < 0) {
            throw new InvalidInputException(where + " = " + v + " is negative; values are unsigned");
        }
        return v;
    }

    private static boolean isHex(String s) {
        return s.length() > 2 && (s.startsWith("0x") || s.startsWith("0X"));
    }
}
