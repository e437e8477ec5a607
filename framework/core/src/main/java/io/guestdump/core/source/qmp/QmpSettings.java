package io.guestdump.core.source.qmp;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigUtil;
import io.guestdump.arch.api.InvalidInputException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;

/**
 * The {@code guestdump.source.qmp} settings (documented in the core {@code reference.conf}).
 *
 * @param greetingTimeout    how long to wait for QEMU's QMP greeting
 * @param commandTimeout     how long to wait for the reply to a quick command
 * @param workDir            where the private directory for pipes and the VMCOREINFO probe is made
 * @param readBackingFiles   read RAM straight from a shared memory-backend-file
 * @param vmcoreinfoProbe    ask QEMU for a one-page dump to learn the guest's VMCOREINFO and the registers the
 *                           monitor text lacks
 * @param lockObject         the QOM id of the object that marks a guest as being dumped
 * @param gdbstubRegisters   per {@code query-target} arch: gdbstub register name to the plugin's register name, read
 *                           from QEMU's gdbstub (started for the moment) when neither the monitor text nor the probe
 *                           gives them; an arch listed here replaces what its plugin declares
 *                           ({@code ArchitectureSupport.gdbstubRegisters}), an empty map turns the stub off
 * @param stallTimeout       how long a {@code pmemsave} may deliver no byte (or not answer after the last one)
 * @param minRate            bytes per second below which a {@code pmemsave} is given up: each one has a deadline of
 *                           {@code stallTimeout + size / minRate}
 * @param maxMessage         the longest QMP message accepted from QEMU (a longer one is a protocol error)
 * @param guestRan           what a guest that ran during a dump of a stopped guest does: {@code fail} or {@code warn}
 * @param live               whether a running guest is dumped from a background snapshot while it keeps running:
 *                           {@code never}, {@code auto} (where QEMU can, else stopped with a one-line reason) or
 *                           {@code always} (fail rather than stop it)
 * @param readProcessMemory  read the RAM of a stopped guest straight from the QEMU process ({@code /proc/TID/mem})
 *                           where that is allowed, instead of streaming it through {@code pmemsave}
 */
public record QmpSettings(Duration greetingTimeout, Duration commandTimeout, Path workDir, boolean readBackingFiles,
        boolean vmcoreinfoProbe, String lockObject,
        Map<String, Map<String, String>> gdbstubRegisters, Duration stallTimeout, long minRate, long maxMessage, String guestRan,
        String live, boolean readProcessMemory) {

    /** The values of {@code guestdump.source.qmp.live}. */
    public static final java.util.List<String> LIVE_MODES = java.util.List.of("never", "auto", "always");

    /** Reads {@code guestdump.source.qmp} of a resolved configuration. */
    public static QmpSettings from(Config config) {
        try {
            Config q = config.getConfig("guestdump.source.qmp");
            String dir = q.getString("work-dir");
            return new QmpSettings(q.getDuration("greeting-timeout"), q.getDuration("command-timeout"),
                    Path.of(dir.isEmpty() ? System.getProperty("java.io.tmpdir") : dir),
                    q.getBoolean("read-backing-files"), q.getBoolean("vmcoreinfo-probe"), q.getString("lock-object"),
                    gdbstubRegisters(q.getConfig("gdbstub-registers")), positive(q, "pmemsave-stall-timeout"),
                    q.getBytes("pmemsave-min-rate"), q.getBytes("max-message-size"), guestRan(q.getString("guest-ran-during-dump")),
                    live(q.getString("live")), q.getBoolean("read-process-memory"));
        } catch (ConfigException e) {
            throw new InvalidInputException("configuration error in guestdump.source.qmp: " + e.getMessage(), e);
        }
    }

    private static Duration positive(Config q, String key) {
        Duration d = q.getDuration(key);
        if (d.isZero() || d.isNegative()) {
            throw new InvalidInputException("guestdump.source.qmp." + key + " = " + d + " must be positive");
        }
        return d;
    }

    private static String guestRan(String v) {
        if (!v.equals("fail") && !v.equals("warn")) {
            throw new InvalidInputException("guestdump.source.qmp.guest-ran-during-dump = " + v + " is not one of "
                    + "fail, warn");
        }
        return v;
    }

    private static String live(String v) {
        if (!LIVE_MODES.contains(v)) {
            throw new InvalidInputException("guestdump.source.qmp.live = " + v + " is not one of never, auto, always");
        }
        return v;
    }

    private static Map<String, Map<String, String>> gdbstubRegisters(Config c) {
        Map<String, Map<String, String>> out = new TreeMap<>();
        for (String arch : c.root().keySet()) {
            Map<String, String> names = new TreeMap<>();
            c.getConfig(ConfigUtil.joinPath(arch)).root().unwrapped().forEach((k, v) -> names.put(k, v.toString()));
            out.put(arch, Map.copyOf(names));
        }
        return Map.copyOf(out);
    }
}
