package io.guestdump.arch.api;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The guest kernel's VMCOREINFO as key/value pairs ({@code SYMBOL(swapper_pg_dir)}, {@code NUMBER(VA_BITS)}, …),
 * for plugins that need kernel facts the registers do not give (page-table walkers). It comes from the guest
 * state when the source had it (or the framework found it), else from guest memory through
 * {@link VmcoreinfoScanner}.
 */
public final class GuestVmcoreinfo {
    private final Map<String, String> values;

    private GuestVmcoreinfo(Map<String, String> values) {
        this.values = values;
    }

    /** Parses VMCOREINFO text ({@code KEY=VALUE} lines; the first of a repeated key wins). */
    public static GuestVmcoreinfo parse(String text) {
        Map<String, String> values = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                values.putIfAbsent(line.substring(0, eq).trim(), line.substring(eq + 1).trim());
            }
        }
        return new GuestVmcoreinfo(values);
    }

    /** The guest's VMCOREINFO: the state's, else the kernel's note found in guest memory, else empty. */
    public static Optional<GuestVmcoreinfo> of(GuestState guest) throws IOException {
        if (guest.vmcoreinfo().isPresent()) {
            return Optional.of(parse(guest.vmcoreinfo().get()));
        }
        return VmcoreinfoScanner.find(guest.memory()).map(f -> parse(f.text()));
    }

    /** A raw value, e.g. {@code get("OSRELEASE")}. */
    public Optional<String> get(String key) {
        return Optional.ofNullable(values.get(key));
    }

    /** {@code SYMBOL(name)=hex}. */
    public Optional<Long> symbol(String name) {
        return get("SYMBOL(" + name + ")").map(v -> Long.parseUnsignedLong(v, 16));
    }

    /** {@code NUMBER(name)=}: decimal, possibly negative, or {@code 0x} hex (the kernel prints both). */
    public Optional<Long> number(String name) {
        return get("NUMBER(" + name + ")").map(GuestVmcoreinfo::parseNumber);
    }

    /** {@code PAGESIZE=} decimal. */
    public Optional<Long> pageSize() {
        return get("PAGESIZE").map(Long::parseLong);
    }

    /** Whether {@code CONFIG_name=y}. */
    public boolean config(String name) {
        return "y".equals(values.get("CONFIG_" + name));
    }

    private static long parseNumber(String v) {
        return v.startsWith("0x") || v.startsWith("0X") ? Long.parseUnsignedLong(v.substring(2), 16) : Long.parseLong(v);
    }
}
