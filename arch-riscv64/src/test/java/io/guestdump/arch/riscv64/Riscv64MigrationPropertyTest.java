package io.guestdump.arch.riscv64;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.longs;

import io.guestdump.arch.api.GuestDumpException;
import io.guestdump.arch.api.MigrationDevice;
import io.guestdump.arch.api.VcpuState;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * QEMU 7.2's saved {@code cpu} section (src/test/resources/qemu-7.2) changed one generated way at a time, against a
 * model of what each change must do: a change to a field the decoder does not read, or to a register's value,
 * decodes (the value followed); a removed or resized field it reads, another section version, a non-zero x0 or
 * another misa.MXL is refused with a {@link GuestDumpException} and nothing else. Every class of change is reached.
 */
class Riscv64MigrationPropertyTest {
    private static final Map<String, byte[]> GOLDEN = golden();
    /** Fields the decoder reads from the section itself (the hyper subsection's are scoped). */
    private static final List<String> READ = read();
    private final Riscv64Architecture plugin = Riscv64Guests.plugin();

    @Test
    void everyChangeDecodesOrIsRefusedAsTheModelSays() {
        Set<String> seen = new HashSet<>();
        qt().withExamples(600).forAll(longs().all()).checkAssert(seed -> {
            Random r = new Random(seed);
            Map<String, byte[]> f = copy(GOLDEN);
            int version = 5;
            String change;
            boolean refused;
            switch (r.nextInt(9)) {
                case 0 -> {
                    String field = READ.get(r.nextInt(READ.size()));
                    f.remove(field);
                    change = "remove-read-field";
                    refused = true;
                }
                case 1 -> {
                    String field = READ.get(r.nextInt(READ.size()));
                    byte[] old = f.get(field);
                    int len = r.nextBoolean() ? r.nextInt(old.length) : old.length + 1 + r.nextInt(16);
                    f.put(field, java.util.Arrays.copyOf(old, len));
                    change = "resize-read-field";
                    refused = true;
                }
                case 2 -> {
                    version = r.nextBoolean() ? r.nextInt(5) : 12 + r.nextInt(1000);
                    change = "unknown-version";
                    refused = true;
                }
                case 3 -> {
                    f.get("env.gpr")[r.nextInt(8)] |= (byte) (1 << r.nextInt(8));
                    change = "x0-not-zero";
                    refused = true;
                }
                case 4 -> {
                    long mxl = r.nextBoolean() ? 1 + 2L * r.nextInt(2) : 4 + r.nextInt(1 << 20);
                    f.put("env.misa_mxl", HexFormat.of().parseHex(String.format("%08x", mxl)));
                    change = "other-mxl";
                    refused = true;
                }
                case 5 -> {
                    // a field the decoder does not read: removed or resized, nothing changes
                    List<String> others = new ArrayList<>(f.keySet());
                    others.removeAll(READ);
                    others.remove("env.virt"); // read for v when the hyper subsection is there
                    others.removeIf(k -> k.startsWith(Riscv64Migration.HYPER + ":"));
                    String field = others.get(r.nextInt(others.size()));
                    if (r.nextBoolean()) {
                        f.remove(field);
                    } else {
                        f.put(field, new byte[r.nextInt(40)]);
                    }
                    change = "unread-field";
                    refused = false;
                }
                case 6 -> {
                    int reg = 1 + r.nextInt(31);
                    byte[] gpr = f.get("env.gpr");
                    gpr[reg * 8 + r.nextInt(8)] ^= (byte) (1 + r.nextInt(255));
                    change = "register-value";
                    refused = false;
                }
                case 7 -> {
                    f.keySet().removeIf(k -> k.startsWith(Riscv64Migration.HYPER + ":"));
                    change = "no-hyper-subsection";
                    refused = false;
                }
                default -> {
                    String field = Riscv64Migration.HYPER + ":" + new ArrayList<>(Riscv64Migration.HYPER_FIELDS
                            .values()).get(r.nextInt(Riscv64Migration.HYPER_FIELDS.size()));
                    f.put(field, new byte[r.nextInt(8)]);
                    change = "short-hyper-field";
                    refused = true;
                }
            }
            seen.add(change);
            MigrationDevice d = new MigrationDevice("cpu", 0, version, f);
            if (refused) {
                GuestDumpException e = assertThrows(GuestDumpException.class, () -> {
                    plugin.migrationMachine("virt", List.of(d));
                    plugin.decodeMigrationCpu(d, "riscv64");
                }, change);
                assertTrue(e.getMessage() != null && !e.getMessage().isBlank(), change);
            } else {
                VcpuState cpu = plugin.decodeMigrationCpu(d, "riscv64");
                byte[] gpr = f.get("env.gpr");
                for (int i = 1; i < 32; i++) {
                    assertEquals(java.nio.ByteBuffer.wrap(gpr, i * 8, 8).getLong(), cpu.u64("x" + i), change);
                }
                assertEquals(change.equals("no-hyper-subsection") ? false : true, cpu.has("hstatus"), change);
            }
        });
        assertTrue(seen.containsAll(Set.of("remove-read-field", "resize-read-field", "unknown-version", "x0-not-zero",
                "other-mxl", "unread-field", "register-value", "no-hyper-subsection", "short-hyper-field")),
                "classes reached: " + new TreeSet<>(seen));
    }

    private static Map<String, byte[]> golden() {
        Map<String, byte[]> f = new LinkedHashMap<>();
        for (String line : Riscv64Guests.text("qemu-7.2/virt-cpu0-migration-fields.txt").split("\\n")) {
            if (!line.startsWith("#") && !line.isBlank()) {
                String[] w = line.split(" ");
                f.put(w[0], w.length > 1 ? HexFormat.of().parseHex(w[1]) : new byte[0]);
            }
        }
        return f;
    }

    private static List<String> read() {
        List<String> r = new ArrayList<>(List.of("env.gpr", "env.fpr", "env.pc", "env.misa_mxl"));
        r.addAll(Riscv64Migration.CSR_FIELDS.values());
        return List.copyOf(r);
    }

    private static Map<String, byte[]> copy(Map<String, byte[]> f) {
        Map<String, byte[]> c = new LinkedHashMap<>();
        f.forEach((k, v) -> c.put(k, v.clone()));
        return c;
    }
}
