package io.guestdump.core.source.migration;

import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.core.source.qmp.Json;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The JSON QEMU appends to a migration stream ({@code QEMU_VM_VMDESCRIPTION}, written while saving): for every
 * non-iterative device section, in stream order, its vmstate fields with the bytes each took. Layout, as QEMU's
 * {@code vmstate.c} writes it:
 *
 * <pre>
 * {"page_size": 4096, "devices": [
 *   {"name": "cpu", "instance_id": 0, "vmsd_name": "cpu", "version": 12,
 *    "fields": [ {"name": "env.regs", "array_len": 16, "type": "uint64", "size": 8},
 *                {"name": "env.segs", "array_len": 6, "type": "struct", "size": 20,
 *                 "struct": {"vmsd_name": "segment", "version": 1, "fields": [...]}}, ... ],
 *    "subsections": [ {"vmsd_name": "cpu/...", "version": 1, "fields": [...]} ]}, ...]}
 * </pre>
 *
 * {@code size} is per element; {@code array_len} repeats a field whose elements all have that size; an array that
 * cannot be described so appears as one entry per element, each with its {@code index}. Subsections listed are the
 * ones that were written, in order.
 */
final class VmDescription {
    /** The JSON's nesting may not go deeper than this (a corrupt file must not exhaust the stack). */
    static final int MAX_DEPTH = 64;

    /** One vmstate description: its fields, then its subsections. */
    record Vmsd(String name, List<Field> fields, List<Vmsd> subsections) {}

    /**
     * One field entry.
     *
     * @param name   vmstate name
     * @param size   bytes per element
     * @param count  elements ({@code array_len}, else 1)
     * @param index  the element index of a per-element entry, or -1
     * @param struct the element's own description for a struct field, else null
     */
    record Field(String name, long size, long count, long index, Vmsd struct) {}

    /** One device: section id string, instance id and its description. */
    record Device(String name, long instanceId, Vmsd vmsd) {}

    private final long pageSize;
    private final Map<String, Deque<Device>> byKey = new HashMap<>();
    private final int deviceCount;

    private VmDescription(long pageSize, List<Device> devices) {
        this.pageSize = pageSize;
        this.deviceCount = devices.size();
        for (Device d : devices) {
            byKey.computeIfAbsent(key(d.name(), d.instanceId()), k -> new ArrayDeque<>()).add(d);
        }
    }

    /** The target page size QEMU reported, or 0 when absent. */
    long pageSize() {
        return pageSize;
    }

    int deviceCount() {
        return deviceCount;
    }

    /** The next unused description of this section, or null. */
    Device take(String name, long instanceId) {
        Deque<Device> q = byKey.get(key(name, instanceId));
        return q == null ? null : q.poll();
    }

    private static String key(String name, long instance) {
        return name + "#" + instance;
    }

    /** Parses the JSON; any deviation from the layout above is an {@link InvalidInputException} naming it. */
    static VmDescription parse(String json, String label) {
        int depth = 0;
        int max = 0;
        boolean inString = false;
        for (int i = 0; i < json.length(); i++) {
            char c = json.charAt(i);
            if (inString) {
                if (c == '\\') {
                    i++;
                } else if (c == '"') {
                    inString = false;
                }
            } else if (c == '"') {
                inString = true;
            } else if (c == '{' || c == '[') {
                max = Math.max(max, ++depth);
            } else if (c == '}' || c == ']') {
                depth--;
            }
        }
        if (max > MAX_DEPTH) {
            throw new InvalidInputException(label + ": the stream's JSON description nests " + max + " levels deep; "
                    + "QEMU's nests a few; the file is corrupt");
        }
        Object root;
        try {
            root = Json.parse(json);
        } catch (IllegalArgumentException e) {
            throw new InvalidInputException(label + ": the stream's JSON description (QEMU_VM_VMDESCRIPTION) is not "
                    + "valid JSON: " + e.getMessage(), e);
        }
        Map<String, Object> top = object(root, "the description", label);
        long pageSize = top.containsKey("page_size") ? number(top.get("page_size"), "page_size", label) : 0;
        List<Device> devices = new ArrayList<>();
        for (Object o : list(top.get("devices"), "devices", label)) {
            Map<String, Object> d = object(o, "a device", label);
            String name = string(d.get("name"), "device name", label);
            long instance = number(d.get("instance_id"), "instance_id of " + name, label);
            devices.add(new Device(name, instance, vmsd(d, name, label)));
        }
        return new VmDescription(pageSize, devices);
    }

    private static Vmsd vmsd(Map<String, Object> d, String where, String label) {
        String name = d.containsKey("vmsd_name") ? string(d.get("vmsd_name"), "vmsd_name of " + where, label) : where;
        List<Field> fields = new ArrayList<>();
        if (d.containsKey("fields")) {
            for (Object o : list(d.get("fields"), "fields of " + where, label)) {
                Map<String, Object> f = object(o, "a field of " + where, label);
                String fname = string(f.get("name"), "a field name of " + where, label);
                String at = fname + " of " + where;
                long size = number(f.get("size"), "size of " + at, label);
                long count = f.containsKey("array_len") ? number(f.get("array_len"), "array_len of " + at, label) : 1;
                long index = f.containsKey("index") ? number(f.get("index"), "index of " + at, label) : -1;
                Vmsd struct = f.get("struct") == null ? null
                        : vmsd(object(f.get("struct"), "struct of " + at, label), at, label);
                fields.add(new Field(fname, size, count, index, struct));
            }
        }
        List<Vmsd> subs = new ArrayList<>();
        if (d.containsKey("subsections")) {
            for (Object o : list(d.get("subsections"), "subsections of " + where, label)) {
                subs.add(vmsd(object(o, "a subsection of " + where, label), where, label));
            }
        }
        return new Vmsd(name, fields, subs);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> object(Object o, String what, String label) {
        if (o instanceof Map<?, ?> m) {
            return (Map<String, Object>) m;
        }
        throw bad(what + " is not a JSON object", label);
    }

    private static List<?> list(Object o, String what, String label) {
        if (o instanceof List<?> l) {
            return l;
        }
        throw bad(what + " is not a JSON array", label);
    }

    private static String string(Object o, String what, String label) {
        if (o instanceof String s) {
            return s;
        }
        throw bad(what + " is not a string", label);
    }

    private static long number(Object o, String what, String label) {
        if (o instanceof Long l && l >= 0) {
            return l;
        }
        throw bad(what + " is " + o + ", not a non-negative integer", label);
    }

    private static InvalidInputException bad(String what, String label) {
        return new InvalidInputException(label + ": the stream's JSON description: " + what);
    }
}
