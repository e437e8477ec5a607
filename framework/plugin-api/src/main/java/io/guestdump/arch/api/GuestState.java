package io.guestdump.arch.api;

import io.guestdump.memory.GuestMemory;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A paused guest as the framework hands it to a plugin.
 *
 * @param machine    guest architecture name, as QEMU's {@code query-target} and a snapshot's {@code guest.arch} name
 *                   it (one of the plugin's {@link ArchitectureSupport#machines()})
 * @param memory     the guest-physical blocks (unfiltered: class decisions look at the whole guest)
 * @param cpus       the vCPUs in index order
 * @param properties extra facts a source knows, e.g. {@code machine-type = pseries-7.2}
 * @param vmcoreinfo the guest kernel's VMCOREINFO text, when known
 */
public record GuestState(
        String machine,
        GuestMemory memory,
        List<VcpuState> cpus,
        Map<String, String> properties,
        Optional<String> vmcoreinfo) {

    /** Copies the collections. */
    public GuestState {
        cpus = List.copyOf(cpus);
        properties = Map.copyOf(properties);
    }

    /** The first vCPU, whose state decides class and byte order on most architectures (as in QEMU). */
    public VcpuState firstCpu() {
        if (cpus.isEmpty()) {
            throw new UnsupportedGuestException("the guest has no vCPU; dumping needs at least one");
        }
        return cpus.get(0);
    }

    /** Whether some memory block ends above the 32-bit address space (its exclusive end exceeds 0xffffffff). */
    public boolean hasMemoryAbove4GiB() {
        return memory.blocks().stream()
                .anyMatch(b -> Long.compareUnsigned(b.range().end(), 0xffff_ffffL) > 0);
    }
}
