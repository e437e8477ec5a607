package io.guestdump.elf;

/**
 * {@code e_machine}: the framework names no architecture. Each architecture plugin declares its own values (as
 * elf.h spells them) and their names through the plugin API.
 */
public final class Machine {
    /** No machine. */
    public static final int EM_NONE = 0;

    private Machine() {}

    /**
     * A readable {@code e_machine}: {@code "EM_FOO (62)"} given the name a plugin declares, {@code "EM_? (62)"}
     * given null.
     */
    public static String describe(String name, int machine) {
        return (name == null ? "EM_?" : name) + " (" + machine + ")";
    }
}
