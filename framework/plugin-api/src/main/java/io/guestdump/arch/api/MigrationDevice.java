package io.guestdump.arch.api;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One device section of a QEMU migration stream ({@code QEMU_VM_SECTION_FULL}), its fields named by the stream's own
 * description (the trailing {@code QEMU_VM_VMDESCRIPTION} JSON), e.g. the {@code cpu} section of vCPU 1.
 *
 * <p>Field names are QEMU's vmstate names ({@code env.regs}, {@code env.cr[0]}); the elements of an array of structs
 * are named {@code <array>[i].<field>} ({@code env.segs[1].base}). A field's bytes are exactly as the stream holds
 * them: integers big-endian (vmstate's {@code qemu_put_be*}), the elements of an array laid end to end.
 *
 * @param name       the section's id string ({@code se->idstr}), e.g. {@code cpu}
 * @param instanceId its instance id (for vCPUs, the vCPU index)
 * @param version    its version id
 * @param fields     field name to bytes, in stream order (subsection fields after the section's own)
 * @param subsections the version of each subsection the stream holds, by its vmsd name ({@code cpu/fpu}), in stream
 *                    order (the first, where a name repeats inside an array of structs); empty when not known
 */
public record MigrationDevice(String name, int instanceId, int version, Map<String, byte[]> fields,
        Map<String, Long> subsections) {

    /** Copies the maps, keeping their order. */
    public MigrationDevice {
        fields = Collections.unmodifiableMap(new LinkedHashMap<>(fields));
        subsections = Collections.unmodifiableMap(new LinkedHashMap<>(subsections));
    }

    /** A section whose subsection versions are not known (no subsections, or built by hand). */
    public MigrationDevice(String name, int instanceId, int version, Map<String, byte[]> fields) {
        this(name, instanceId, version, fields, Map.of());
    }

    /** Whether the stream holds the field. */
    public boolean has(String field) {
        return fields.containsKey(field);
    }

    /** The field's bytes; throws {@link InvalidInputException} naming the field when the stream lacks it. */
    public byte[] bytes(String field) {
        byte[] b = fields.get(field);
        if (b == null) {
            throw new InvalidInputException("migration stream: section " + name + " instance " + instanceId
                    + " has no field " + field + " (fields: " + fields.keySet() + ")");
        }
        return b;
    }

    /** The field as one big-endian unsigned integer of its own width (at most 8 bytes). */
    public long unsigned(String field) {
        byte[] b = bytes(field);
        if (b.length == 0 || b.length > Long.BYTES) {
            throw new InvalidInputException("migration stream: field " + field + " of section " + name + " has "
                    + b.length + " bytes; expected an integer of 1 to 8 bytes");
        }
        return element(b, 0, b.length);
    }

    /**
     * Element {@code index} of an array field whose elements are {@code width}-byte big-endian integers.
     *
     * @throws InvalidInputException naming the field when it is not that long
     */
    public long element(String field, int index, int width) {
        byte[] b = bytes(field);
        if (width < 1 || width > Long.BYTES || index < 0 || (long) (index + 1) * width > b.length) {
            throw new InvalidInputException("migration stream: field " + field + " of section " + name + " has "
                    + b.length + " bytes; element " + index + " of width " + width + " is not in it");
        }
        return element(b, index * width, width);
    }

    private static long element(byte[] b, int offset, int width) {
        long v = 0;
        for (int i = 0; i < width; i++) {
            v = (v << 8) | (b[offset + i] & 0xff);
        }
        return v;
    }
}
