package io.guestdump.arch.ppc64;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import java.util.Locale;

/**
 * The plugin's settings, read eagerly from its subtree {@code guestdump.arch.ppc64}; the defaults and their
 * documentation live in {@code reference.conf}. The only class that sees {@link Config}.
 *
 * @param defaultMachineType machine type assumed when the guest source does not give {@code machine-type}
 * @param byteOrder          {@code auto} (from the first vCPU's interrupt endianness), or forced
 * @param vectorNoteOwner    owner name of NT_PPC_VMX, NT_PPC_VSX and NT_PPC_SPE
 */
public record Ppc64Settings(String defaultMachineType, ByteOrderChoice byteOrder, String vectorNoteOwner) {

    /** Key of {@link #defaultMachineType}. */
    public static final String DEFAULT_MACHINE_TYPE = "default-machine-type";
    /** Key of {@link #byteOrder}. */
    public static final String BYTE_ORDER = "byte-order";
    /** Key of {@link #vectorNoteOwner}. */
    public static final String VECTOR_NOTE_OWNER = "vector-note-owner";

    /** The values of {@code byte-order}. */
    public enum ByteOrderChoice {
        /** Decide from the guest, as QEMU means to. */
        AUTO,
        /** Always big-endian. */
        BIG,
        /** Always little-endian. */
        LITTLE
    }

    /** Reads every key; a missing key is a bug in {@code reference.conf}, a bad value names the key and origin. */
    public static Ppc64Settings from(Config config) {
        String machineType = config.getString(DEFAULT_MACHINE_TYPE).trim();
        if (machineType.isEmpty()) {
            throw new ConfigException.BadValue(config.origin(), DEFAULT_MACHINE_TYPE,
                    "must name a QEMU machine type, e.g. pseries or powernv9");
        }
        String order = config.getString(BYTE_ORDER).trim().toLowerCase(Locale.ROOT);
        ByteOrderChoice choice = switch (order) {
            case "auto" -> ByteOrderChoice.AUTO;
            case "big" -> ByteOrderChoice.BIG;
            case "little" -> ByteOrderChoice.LITTLE;
            default -> throw new ConfigException.BadValue(config.origin(), BYTE_ORDER,
                    "is '" + order + "'; use auto, big or little");
        };
        String owner = config.getString(VECTOR_NOTE_OWNER).trim();
        if (!owner.equals("LINUX") && !owner.equals("CORE")) {
            throw new ConfigException.BadValue(config.origin(), VECTOR_NOTE_OWNER,
                    "is '" + owner + "'; use LINUX (what binutils and gdb look for) or CORE (what QEMU writes)");
        }
        return new Ppc64Settings(machineType, choice, owner);
    }
}
