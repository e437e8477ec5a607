package io.guestdump.core.source.qmp;

import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.memory.PhysRange;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The system address space as HMP {@code info mtree -f} prints it, and the blocks QEMU's dump would take from it
 * (its {@code guest_phys_blocks_append}): every RAM or ROM section, without {@code ramd} (device-backed RAM, VFIO
 * BARs), non-volatile ({@code nv-}) and {@code romd} (flash in ROM-device mode) sections. A section joins the
 * previous block only when it is contiguous with it in guest-physical space, in the same memory region, and at
 * the next offset of that region (QEMU: contiguous host memory of the same {@code MemoryRegion}).
 */
final class FlatView {
    /** {@code  0000000000100000-000000001fffffff (prio 0, ram): pc.ram @0000000000100000}. */
    private static final Pattern SECTION = Pattern.compile(
            "\\s*([0-9a-f]+)-([0-9a-f]+) \\(prio (-?\\d+), ([a-z/ -]+)\\): (.*?)(?: @([0-9a-f]+))?\\s*");
    private static final Pattern VIEW = Pattern.compile("FlatView #\\d+\\s*");
    private static final Pattern ADDRESS_SPACE = Pattern.compile("\\s*AS \"(.*)\", root: .*");

    /** One flat range: {@code [start, end]} maps {@code region} from {@code offset} on. */
    record Section(PhysRange range, String type, String region, long offset) {}

    /** A block QEMU would dump: a range of one region from an offset. */
    record Block(PhysRange range, String region, long offset) {}

    private FlatView() {}

    /**
     * The sections of the flat view that serves the {@code memory} address space.
     *
     * @param text the output of {@code info mtree -f}
     * @param from where it came from, for messages
     */
    static List<Section> systemSections(String text, String from) {
        String[] lines = text.split("\r?\n", -1);
        boolean inView = false;
        boolean isSystem = false;
        List<Section> sections = new ArrayList<>();
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            if (VIEW.matcher(line).matches()) {
                if (isSystem) {
                    return sections;
                }
                inView = true;
                sections.clear();
                continue;
            }
            if (!inView) {
                continue;
            }
            Matcher as = ADDRESS_SPACE.matcher(line);
            if (as.matches()) {
                isSystem |= as.group(1).equals("memory");
                continue;
            }
            if (!isSystem || line.isBlank() || line.trim().startsWith("Root memory region") || line.trim()
                    .startsWith("No rendered FlatView")) {
                continue;
            }
            Matcher m = SECTION.matcher(line);
            if (!m.matches()) {
                throw new InvalidInputException(from + ":" + (i + 1) + ": cannot read the flat-view line '"
                        + line.trim() + "'; expected 'START-LAST (prio N, TYPE): REGION [@OFFSET]'");
            }
            long start = Long.parseUnsignedLong(m.group(1), 16);
            long last = Long.parseUnsignedLong(m.group(2), 16);
            long offset = m.group(6) == null ? 0 : Long.parseUnsignedLong(m.group(6), 16);
            sections.add(new Section(new PhysRange(start, last + 1), m.group(4), m.group(5), offset));
        }
        if (!isSystem) {
            throw new InvalidInputException(from + ": no flat view of the address space \"memory\"; is this the "
                    + "output of 'info mtree -f'?");
        }
        return sections;
    }

    /** Whether QEMU dumps a section of this {@code info mtree -f} type. */
    static boolean isDumped(String type) {
        return type.equals("ram") || type.equals("rom");
    }

    /** QEMU's guest-physical blocks of the sections. */
    static List<Block> blocks(List<Section> sections) {
        List<Block> blocks = new ArrayList<>();
        for (Section s : sections) {
            if (!isDumped(s.type())) {
                continue;
            }
            if (!blocks.isEmpty()) {
                Block prev = blocks.get(blocks.size() - 1);
                if (prev.range().end() == s.range().start() && prev.region().equals(s.region())
                        && prev.offset() + prev.range().length() == s.offset()) {
                    blocks.set(blocks.size() - 1, new Block(new PhysRange(prev.range().start(), s.range().end()),
                            prev.region(), prev.offset()));
                    continue;
                }
            }
            blocks.add(new Block(s.range(), s.region(), s.offset()));
        }
        return blocks;
    }
}
