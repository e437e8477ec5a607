package io.guestdump.arch.arm;

import io.guestdump.arch.api.GuestState;
import io.guestdump.arch.api.VcpuState;
import io.guestdump.memory.GuestMemory;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Guests around generated memory. */
final class WalkerGuests {
    private WalkerGuests() {}

    static GuestState guest(String machine, GuestMemory memory, VcpuState cpu) {
        return new GuestState(machine, memory, List.of(cpu), Map.of(), Optional.empty());
    }

    static GuestState guest(String machine, GuestMemory memory, VcpuState cpu, String vmcoreinfo) {
        return new GuestState(machine, memory, List.of(cpu), Map.of(), Optional.of(vmcoreinfo));
    }
}
