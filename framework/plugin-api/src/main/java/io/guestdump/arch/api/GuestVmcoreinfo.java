package io.guestdump.arch.api;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The guest kernel's VMCOREINFO as key/value pairs, read with the number rules the kernel prints them with
 * ({@code kernel/crash_core.c}, {@code include/linux/crash_core.h}):
 *
 * <pre>
 * key form            printed as      read by
 * SYMBOL(name)        %lx  (no 0x)    {@link #symbol}   hex; a 0x prefix is accepted too
 * NUMBER(name)        %ld             {@link #number}   decimal, may be negative; hex when 0x-prefixed
 *                                                      (some architectures print 0x%llx, e.g. PHYS_OFFSET)
 * OFFSET(type.field)  %lu             {@link #offset}   decimal; hex when 0x-prefixed
 * SIZE(type)          %lu             {@link #size}     decimal; hex when 0x-prefixed
 * LENGTH(name)        %lu             {@link #length}   decimal; hex when 0x-prefixed
 * PAGESIZE            %ld             {@link #pageSize} decimal
 * anything else       as written      {@link #get}      raw text, e.g. OSRELEASE, KERNELOFFSET (hex, no 0x)
 * </pre>
 *
 * A value that breaks its rule is an {@link InvalidInputException} naming the key and the value. The framework
 * finds the guest's VMCOREINFO once per dump (from the source, or by searching guest memory when
 * {@code guestdump.notes.vmcoreinfo-scan} allows) and hands it to plugins in the {@link GuestState}; plugins read
 * it with {@link #of(GuestState)} and never search memory themselves.
 */
public final class GuestVmcoreinfo {
    private static final GuestVmcoreinfo EMPTY = new GuestVmcoreinfo("", Map.of());

    private final String text;
    private final Map<String, String> values;

    private GuestVmcoreinfo(String text, Map<String, String> values) {
        this.text = text;
        this.values = Collections.unmodifiableMap(values);
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
        return new GuestVmcoreinfo(text, values);
    }

    /** No VMCOREINFO: every lookup is empty. */
    public static GuestVmcoreinfo empty() {
        return EMPTY;
    }

    /** The guest's VMCOREINFO as the framework handed it over in the state (the source's, or found in memory). */
    public static Optional<GuestVmcoreinfo> of(GuestState guest) {
        return guest.vmcoreinfo().map(GuestVmcoreinfo::parse);
    }

    /** Whether there is no key at all. */
    public boolean isEmpty() {
        return values.isEmpty();
    }

    /** The text as the kernel wrote it (empty for {@link #empty()}). */
    public String text() {
        return text;
    }

    /** A raw value, e.g. {@code get("OSRELEASE")}. */
    public Optional<String> get(String key) {
        return Optional.ofNullable(values.get(key));
    }

    /** {@code OSRELEASE=}, the kernel's {@code utsname.release}. */
    public Optional<String> osRelease() {
        return get("OSRELEASE");
    }

    /** {@code SYMBOL(name)=}: hex, as {@code %lx} prints it. */
    public Optional<Long> symbol(String name) {
        String key = "SYMBOL(" + name + ")";
        return get(key).map(v -> parseHex(key, v));
    }

    /** {@code NUMBER(name)=}: decimal, possibly negative ({@code %ld}), or hex when {@code 0x}-prefixed. */
    public Optional<Long> number(String name) {
        String key = "NUMBER(" + name + ")";
        return get(key).map(v -> parseNumber(key, v));
    }

    /** {@code OFFSET(type.field)=}: decimal ({@code %lu}), or hex when {@code 0x}-prefixed. */
    public Optional<Long> offset(String typeDotField) {
        String key = "OFFSET(" + typeDotField + ")";
        return get(key).map(v -> parseNumber(key, v));
    }

    /** {@code SIZE(type)=}: decimal ({@code %lu}), or hex when {@code 0x}-prefixed. */
    public Optional<Long> size(String type) {
        String key = "SIZE(" + type + ")";
        return get(key).map(v -> parseNumber(key, v));
    }

    /** {@code LENGTH(name)=}: decimal ({@code %lu}), or hex when {@code 0x}-prefixed. */
    public Optional<Long> length(String name) {
        String key = "LENGTH(" + name + ")";
        return get(key).map(v -> parseNumber(key, v));
    }

    /** {@code PAGESIZE=}: decimal. */
    public Optional<Long> pageSize() {
        return get("PAGESIZE").map(v -> parseNumber("PAGESIZE", v));
    }

    /** A key whose value the kernel prints as bare hex ({@code KERNELOFFSET=%lx}). */
    public Optional<Long> hex(String key) {
        return get(key).map(v -> parseHex(key, v));
    }

    /** Whether {@code CONFIG_name=y}. */
    public boolean config(String name) {
        return "y".equals(values.get("CONFIG_" + name));
    }

    /**
     * A number as {@code %ld}/{@code %lu} print it: decimal with an optional leading minus, or hex when
     * {@code 0x}-prefixed (the minus is allowed there too). {@code key} names the value in the error.
     */
    public static long parseNumber(String key, String text) {
        boolean negative = text.startsWith("-");
        String digits = negative ? text.substring(1) : text;
        try {
            if (digits.isEmpty() || digits.startsWith("+") || digits.startsWith("-")) {
                throw new NumberFormatException(text);
            }
            long v = digits.startsWith("0x") || digits.startsWith("0X")
                    ? Long.parseUnsignedLong(digits.substring(2), 16)
                    : Long.parseUnsignedLong(digits);
            return negative ? -v : v;
        } catch (NumberFormatException e) {
            throw new InvalidInputException("VMCOREINFO " + key + "=" + text
                    + " is not a number (decimal, or hex with 0x); fix the guest's VMCOREINFO text", e);
        }
    }

    /** Hex as {@code %lx} prints it, an optional {@code 0x} prefix accepted. */
    public static long parseHex(String key, String text) {
        String digits = text.startsWith("0x") || text.startsWith("0X") ? text.substring(2) : text;
        try {
            if (digits.isEmpty() || digits.startsWith("+") || digits.startsWith("-")) {
                throw new NumberFormatException(text);
            }
            return Long.parseUnsignedLong(digits, 16);
        } catch (NumberFormatException e) {
            throw new InvalidInputException("VMCOREINFO " + key + "=" + text
                    + " is not a hex number; fix the guest's VMCOREINFO text", e);
        }
    }
}
