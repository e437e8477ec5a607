package io.guestdump.cli;

import java.math.BigInteger;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Addresses and sizes on the command line, exactly as the help describes them and nothing else: ASCII decimal
 * ({@code 4096}), {@code 0x} hex ({@code 0x1000}), or a whole number with a binary unit ({@code 16MiB},
 * {@code 2 GiB}, {@code 512K}); {@code _} may separate digits. Signs, exponents, fractions and non-ASCII digits are
 * refused.
 */
final class AddressConverter implements ITypeConverter<Long> {
    private static final BigInteger TWO_64 = BigInteger.ONE.shiftLeft(64);
    private static final Pattern HEX = Pattern.compile("0[xX]([0-9a-fA-F](?:_?[0-9a-fA-F])*)");
    private static final Pattern DECIMAL = Pattern.compile("([0-9](?:_?[0-9])*)\\s*([A-Za-z]*)");
    private static final Map<String, Integer> SHIFTS = Map.ofEntries(
            Map.entry("", 0), Map.entry("B", 0),
            Map.entry("K", 10), Map.entry("Ki", 10), Map.entry("KiB", 10),
            Map.entry("M", 20), Map.entry("Mi", 20), Map.entry("MiB", 20),
            Map.entry("G", 30), Map.entry("Gi", 30), Map.entry("GiB", 30),
            Map.entry("T", 40), Map.entry("Ti", 40), Map.entry("TiB", 40));

    @Override
    public Long convert(String value) {
        BigInteger n = parse(value.strip());
        if (n == null) {
            throw new TypeConversionException("'" + value + "' is not an address or size; write decimal (4096), "
                    + "0x… hex (0x1000), or a whole number of B, KiB, MiB, GiB or TiB (16MiB)");
        }
        if (n.compareTo(TWO_64) >= 0) {
            throw new TypeConversionException("'" + value + "' does not fit an unsigned 64-bit value");
        }
        return n.longValue();
    }

    /** The value, or null when {@code v} is not one of the accepted forms. */
    static BigInteger parse(String v) {
        Matcher hex = HEX.matcher(v);
        if (hex.matches()) {
            return new BigInteger(hex.group(1).replace("_", ""), 16);
        }
        Matcher dec = DECIMAL.matcher(v);
        if (dec.matches() && SHIFTS.containsKey(dec.group(2))) {
            return new BigInteger(dec.group(1).replace("_", "")).shiftLeft(SHIFTS.get(dec.group(2)));
        }
        return null;
    }
}
