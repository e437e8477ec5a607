package io.guestdump.arch.riscv64;

import com.typesafe.config.ConfigFactory;
import io.guestdump.arch.api.ArchContext;
import io.guestdump.arch.api.GuestState;
import io.guestdump.arch.api.VcpuState;
import io.guestdump.memory.ByteArrayData;
import io.guestdump.memory.GuestBlock;
import io.guestdump.memory.GuestMemory;
import io.guestdump.memory.PhysRange;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Plugin, guests and the QEMU 7.2 reference data shared by the tests. */
final class Riscv64Guests {
    static final String MONITOR_TEXT = "qemu-7.2/virt-2cpu-info-registers-a.txt";
    static final String QEMU_NOTES = "qemu-7.2/virt-2cpu-notes.bin";

    private Riscv64Guests() {}

    static Riscv64Architecture plugin() {
        return new Riscv64Architecture(new ArchContext(ConfigFactory.load().getConfig("guestdump.arch.riscv64")));
    }

    static GuestState guest(GuestMemory memory, List<VcpuState> cpus) {
        return new GuestState(Riscv64Architecture.ID, memory, cpus, Map.of(), Optional.empty());
    }

    static GuestState guest(GuestMemory memory, VcpuState cpu, String vmcoreinfo) {
        return new GuestState(Riscv64Architecture.ID, memory, List.of(cpu), Map.of(), Optional.of(vmcoreinfo));
    }

    static GuestMemory ram(long base, byte[] bytes) {
        return new GuestMemory(List.of(new GuestBlock(PhysRange.ofLength(base, bytes.length),
                new ByteArrayData(bytes), "ram")));
    }

    static byte[] resource(String name) {
        try (InputStream in = Riscv64Guests.class.getClassLoader().getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("test resource " + name + " missing");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String text(String name) {
        return new String(resource(name), StandardCharsets.UTF_8);
    }
}
