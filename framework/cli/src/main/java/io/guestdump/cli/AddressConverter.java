package io.guestdump.cli;

import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import java.math.BigInteger;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** Addresses and sizes on the command line: decimal, {@code 0x…} hex, or sizes such as {@code 16MiB}. */
final class AddressConverter implements ITypeConverter<Long> {
    private static final BigInteger TWO_64 = BigInteger.ONE.shiftLeft(64);

    @Override
    public Long convert(String value) {
        String v = value.trim().replace("_", "");
        BigInteger n;
        try {
            if (v.startsWith("0x") || v.startsWith("0X")) {
                n = new BigInteger(v.substring(2), 16);
            } else if (v.matches("\\d+")) {
                n = new BigInteger(v);
            } else {
                n = BigInteger.valueOf(ConfigFactory.empty().withValue("v", ConfigValueFactory.fromAnyRef(v))
                        .getBytes("v"));
            }
        } catch (NumberFormatException | ConfigException e) {
            throw new TypeConversionException("'" + value + "' is not an address or size; write decimal, 0x… hex, "
                    + "or a size such as 16MiB");
        }
        if (n.signum() < 0 || n.compareTo(TWO_64) >= 0) {
            throw new TypeConversionException("'" + value + "' does not fit an unsigned 64-bit value");
        }
        return n.longValue();
    }
}
