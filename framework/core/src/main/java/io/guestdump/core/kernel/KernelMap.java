package io.guestdump.core.kernel;

import io.guestdump.arch.api.GuestVmcoreinfo;
import io.guestdump.memory.GuestBlock;
import io.guestdump.memory.MemoryMapping;
import io.guestdump.memory.PhysRange;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The two kernel mappings a Linux {@code /proc/vmcore} describes with its PT_LOADs: the <em>linear map</em>
 * (every RAM byte at {@code phys + linearOffset}) and the <em>kernel image</em> (text, data and bss where the
 * kernel was linked or relocated to). Both are read off one page-table walk, without knowing the architecture:
 *
 * <ul>
 *   <li>the linear map is the virt−phys delta under which the walk maps the most bytes (it maps all of RAM; every
 *       other kernel mapping, vmalloc, vmemmap, fixmap, modules, maps at most a small part under one delta);
 *   <li>the kernel image is the delta of the run holding VMCOREINFO's {@code SYMBOL(_stext)} (else
 *       {@code init_uts_ns} or {@code swapper_pg_dir}, both kernel data), with every run of that delta; where it
 *       equals the linear delta (a kernel that runs inside its linear map) there is no separate image mapping.
 * </ul>
 *
 * @param linearOffset the linear map's {@code virt - phys}
 * @param image        the kernel image's runs ({@code phys}, {@code virt}, {@code length}), ascending; empty when
 *                     the image lies in the linear map
 */
public record KernelMap(long linearOffset, List<MemoryMapping> image) {
    /** VMCOREINFO symbols inside the kernel image, the first one present anchors it. */
    static final List<String> IMAGE_ANCHORS = List.of("_stext", "init_uts_ns", "swapper_pg_dir");

    /** A delta mapping less RAM than this (or a quarter of RAM, when smaller) is not taken for the linear map. */
    static final long MIN_LINEAR = 16L << 20;

    /** Copies the list. */
    public KernelMap {
        image = List.copyOf(image);
    }

    /** Derives the map from a walk, or empty when the walk maps nothing. */
    public static Optional<KernelMap> derive(KernelAddressSpace space, GuestVmcoreinfo vmcoreinfo) {
        Map<Long, Long> bytesByDelta = new HashMap<>();
        for (int i = 0; i < space.runCount(); i++) {
            if (space.memory().blockAt(space.runPhys(i)) != null) { // device memory says nothing about RAM
                bytesByDelta.merge(space.runVirt(i) - space.runPhys(i), space.runLength(i), Long::sum);
            }
        }
        if (bytesByDelta.isEmpty()) {
            return Optional.empty();
        }
        long linear = 0;
        long most = -1;
        for (Map.Entry<Long, Long> e : bytesByDelta.entrySet()) {
            if (e.getValue() > most || e.getValue() == most && Long.compareUnsigned(e.getKey(), linear) < 0) {
                most = e.getValue();
                linear = e.getKey();
            }
        }
        long ram = 0;
        for (GuestBlock b : space.memory().blocks()) {
            ram += b.range().length();
        }
        if (most < Math.min(ram / 4, MIN_LINEAR)) {
            // not a linear map: a vCPU caught on a page table that maps almost nothing (a kernel-isolation
            // trampoline table, used while in user space, maps one page); the ELF keeps p_vaddr = p_paddr
            return Optional.empty();
        }
        List<MemoryMapping> image = new ArrayList<>();
        OptionalLong imageDelta = imageDelta(space, vmcoreinfo);
        if (imageDelta.isPresent() && imageDelta.getAsLong() != linear) {
            long d = imageDelta.getAsLong();
            for (int i = 0; i < space.runCount(); i++) {
                if (space.runVirt(i) - space.runPhys(i) == d) {
                    image.add(new MemoryMapping(space.runPhys(i), space.runVirt(i), space.runLength(i)));
                }
            }
        }
        return Optional.of(new KernelMap(linear, image));
    }

    private static OptionalLong imageDelta(KernelAddressSpace space, GuestVmcoreinfo vmcoreinfo) {
        for (String name : IMAGE_ANCHORS) {
            Optional<Long> at;
            try {
                at = vmcoreinfo.symbol(name);
            } catch (NumberFormatException e) {
                continue;
            }
            if (at.isPresent()) {
                OptionalLong phys = space.translate(at.get());
                if (phys.isPresent()) {
                    return OptionalLong.of(at.get() - phys.getAsLong());
                }
            }
        }
        return OptionalLong.empty();
    }

    /**
     * The PT_LOADs of a {@code /proc/vmcore}-style ELF for the dumped blocks: first the kernel image's runs (clipped
     * to the blocks), then each block at {@code phys + linearOffset} when the linear map covers any of it,
     * otherwise at {@code p_vaddr = p_paddr}. Blocks outside the linear map (firmware, video memory) come before
     * those in it: makedumpfile takes the kernel's linear offset from the last PT_LOAD below the image.
     *
     * @param blocks the dumped blocks, ascending
     * @param space  the walk, to tell whether the linear map covers a block
     */
    public List<MemoryMapping> loads(List<GuestBlock> blocks, KernelAddressSpace space) {
        List<MemoryMapping> out = new ArrayList<>();
        for (MemoryMapping m : image) {
            for (GuestBlock b : blocks) {
                PhysRange r = b.range().intersect(new PhysRange(m.phys(), m.phys() + m.length()));
                if (!r.isEmpty()) {
                    out.add(new MemoryMapping(r.start(), m.virt() + (r.start() - m.phys()), r.length()));
                }
            }
        }
        List<MemoryMapping> linear = new ArrayList<>();
        for (GuestBlock b : blocks) {
            PhysRange r = b.range();
            if (linearlyMapped(space, r) && Long.compareUnsigned(r.start() + linearOffset, -r.length()) < 0) {
                // (a virtual range that would reach past 2^64 keeps p_vaddr = p_paddr, below)
                linear.add(new MemoryMapping(r.start(), r.start() + linearOffset, r.length()));
            } else {
                out.add(new MemoryMapping(r.start(), r.start(), r.length()));
            }
        }
        out.addAll(linear);
        return out;
    }

    /**
     * {@code --paging}'s mappings in the order makedumpfile needs (it takes the linear offset from the last
     * PT_LOAD below the kernel image and {@code phys_base} from the first above it): the kernel image's
     * mappings first, then every other one, then the linear map's, each group in its original order.
     */
    public List<MemoryMapping> orderForReaders(List<MemoryMapping> mappings) {
        List<MemoryMapping> first = new ArrayList<>();
        List<MemoryMapping> middle = new ArrayList<>();
        List<MemoryMapping> last = new ArrayList<>();
        long imageDelta = image.isEmpty() ? linearOffset : image.get(0).virt() - image.get(0).phys();
        for (MemoryMapping m : mappings) {
            long d = m.virt() - m.phys();
            if (d == linearOffset) {
                last.add(m);
            } else if (d == imageDelta) {
                first.add(m);
            } else {
                middle.add(m);
            }
        }
        first.addAll(middle);
        first.addAll(last);
        return first;
    }

    /** Whether some run of the linear delta maps part of {@code r}. */
    private boolean linearlyMapped(KernelAddressSpace space, PhysRange r) {
        OptionalLong at = space.translate(r.start() + linearOffset);
        if (at.isPresent() && at.getAsLong() == r.start()) {
            return true;
        }
        for (int i = 0; i < space.runCount(); i++) {
            if (space.runVirt(i) - space.runPhys(i) == linearOffset) {
                long s = space.runPhys(i);
                long e = s + space.runLength(i);
                if (Long.compareUnsigned(s, r.end()) < 0 && Long.compareUnsigned(r.start(), e) < 0) {
                    return true;
                }
            }
        }
        return false;
    }
}
