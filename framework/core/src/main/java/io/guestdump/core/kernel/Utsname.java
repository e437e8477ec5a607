package io.guestdump.core.kernel;

import io.guestdump.arch.api.GuestVmcoreinfo;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;

/**
 * {@code struct new_utsname} (include/uapi/linux/utsname.h): six NUL-terminated fields of {@code __NEW_UTS_LEN + 1}
 * = 65 bytes, what {@code uname -a} prints. The kdump header carries one; crash, makedumpfile and libkdumpfile read
 * it, and libkdumpfile ignores a utsname with an empty field (then finds no architecture, and drgn cannot open
 * the file).
 *
 * @param sysname    {@code uname -s}, "Linux"
 * @param nodename   {@code uname -n}, the host name
 * @param release    {@code uname -r}
 * @param version    {@code uname -v}, "#1 SMP PREEMPT_DYNAMIC Debian …"
 * @param machine    {@code uname -m}
 * @param domainname the NIS domain name, "(none)" when unset
 */
public record Utsname(String sysname, String nodename, String release, String version, String machine,
        String domainname) {
    /** {@code __NEW_UTS_LEN + 1}. */
    public static final int FIELD = 65;
    /** {@code sizeof(struct new_utsname)}. */
    public static final int SIZE = 6 * FIELD;
    /** What the kernel itself puts in a name nobody set ({@code UTS_NODENAME}, {@code UTS_DOMAINNAME}). */
    public static final String NONE = "(none)";

    /** Checks that every field fits 64 bytes of printable ASCII. */
    public Utsname {
        for (String f : List.of(sysname, nodename, release, version, machine, domainname)) {
            if (f.getBytes(StandardCharsets.US_ASCII).length >= FIELD || !printable(f)) {
                throw new IllegalArgumentException("utsname field \"" + f + "\" is not up to 64 printable ASCII bytes");
            }
        }
    }

    /** The fields in struct order. */
    public List<String> fields() {
        return List.of(sysname, nodename, release, version, machine, domainname);
    }

    /**
     * The guest kernel's own {@code init_uts_ns.name}, at VMCOREINFO {@code SYMBOL(init_uts_ns)} +
     * {@code OFFSET(uts_namespace.name)}, read through the kernel's page tables. Empty when either entry is missing,
     * the address does not translate, or the bytes are not a plausible utsname (a field without its NUL, a
     * non-printable byte, an empty sysname or release, or a release other than VMCOREINFO's {@code OSRELEASE}).
     */
    public static Optional<Utsname> read(KernelAddressSpace space, GuestVmcoreinfo vmcoreinfo) {
        Optional<Long> symbol;
        Optional<Long> offset;
        try {
            symbol = vmcoreinfo.symbol("init_uts_ns");
            offset = vmcoreinfo.get("OFFSET(uts_namespace.name)").map(Long::parseLong);
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
        if (symbol.isEmpty() || offset.isEmpty()) {
            return Optional.empty();
        }
        byte[] raw = new byte[SIZE];
        try {
            space.read(symbol.get() + offset.get(), raw);
        } catch (IOException e) {
            return Optional.empty();
        }
        String[] f = new String[6];
        for (int i = 0; i < 6; i++) {
            int end = -1;
            for (int j = 0; j < FIELD; j++) {
                if (raw[i * FIELD + j] == 0) {
                    end = j;
                    break;
                }
            }
            if (end < 0) {
                return Optional.empty();
            }
            f[i] = new String(raw, i * FIELD, end, StandardCharsets.US_ASCII);
            if (!printable(f[i])) {
                return Optional.empty();
            }
        }
        Optional<String> osrelease = vmcoreinfo.get("OSRELEASE");
        if (f[0].isEmpty() || f[2].isEmpty() || osrelease.isPresent() && !osrelease.get().equals(f[2])) {
            return Optional.empty();
        }
        return Optional.of(new Utsname(f[0], f[1], f[2], f[3], f[4], f[5]));
    }

    /**
     * The guest's utsname with no field left empty: an empty field of {@code found} (or every field, without it)
     * is taken from what the dump itself says: "Linux" for a guest with VMCOREINFO, VMCOREINFO's {@code OSRELEASE}
     * as release (and as version, which VMCOREINFO does not carry), {@code machine} from the plugin, and the
     * kernel's own "(none)" for an unset node or domain name.
     *
     * @param found      the guest's init_uts_ns, when read
     * @param vmcoreinfo the guest's VMCOREINFO, when known
     * @param machine    the plugin's {@code uname -m} for the dump target
     */
    public static Utsname complete(Optional<Utsname> found, Optional<GuestVmcoreinfo> vmcoreinfo, String machine) {
        String release = vmcoreinfo.flatMap(v -> v.get("OSRELEASE")).filter(r -> !r.isEmpty() && r.length() < FIELD
                && printable(r)).orElse(NONE);
        Utsname u = found.orElse(new Utsname("", "", "", "", "", ""));
        return new Utsname(
                or(u.sysname(), vmcoreinfo.isPresent() ? "Linux" : NONE),
                or(u.nodename(), NONE),
                or(u.release(), release),
                or(u.version(), release),
                or(u.machine(), machine.isEmpty() ? NONE : machine),
                or(u.domainname(), NONE));
    }

    private static String or(String value, String otherwise) {
        return value.isEmpty() ? otherwise : value;
    }

    private static boolean printable(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c > 0x7e) {
                return false;
            }
        }
        return true;
    }
}
