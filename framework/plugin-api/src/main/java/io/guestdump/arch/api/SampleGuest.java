package io.guestdump.arch.api;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * A small deterministic guest that a plugin generates, so that guestdump has something to dump without a virtual
 * machine at hand: the files of a snapshot (docs/snapshot-format.md), that is the snapshot's HOCON, the files it
 * names (register text, VMCOREINFO text) and its RAM file. The plugin only says what each file holds; the framework
 * writes the files ({@code guestdump sample-guest}, and the build for the distribution's {@code config/guests}), and
 * {@code guestdump dump sample:} dumps the snapshot written. The same size always gives the same bytes.
 *
 * <p>A plugin offers one through {@link ArchitectureSupport#sampleGuest()}. Which plugin's sample the framework uses
 * is the framework's setting {@code guestdump.sample-arch} (an architecture id); unset, it is the first loaded plugin
 * offering one, in plugin id order.
 */
public interface SampleGuest {

    /** Base name of the files; the snapshot is {@code <name>.conf}, e.g. {@code "sample-foo64"}. */
    String name();

    /** What the guest is, in a few words, for the line {@code guestdump sample-guest} prints. */
    String description();

    /** Guest-physical size (in bytes) when none is asked for, also the smallest this sample supports. */
    long defaultSize();

    /**
     * The files of a sample guest of {@code size} bytes of guest-physical space, the snapshot
     * ({@code <name>.conf}) among them.
     *
     * @param size a multiple of 4 KiB, at least {@link #defaultSize()}; the framework checks both
     */
    List<SampleFile> files(long size);

    /**
     * One file of the sample.
     *
     * @param name    its file name, no directory
     * @param length  its length in bytes
     * @param content its bytes
     */
    record SampleFile(String name, long length, Content content) {
        /** Checks the name is a plain file name and the length is not negative. */
        public SampleFile {
            if (name.isEmpty() || name.contains("/") || name.contains("\\") || name.startsWith(".")) {
                throw new IllegalArgumentException("sample file name '" + name + "' must be a plain file name");
            }
            if (length < 0) {
                throw new IllegalArgumentException("sample file " + name + " has negative length " + length);
            }
        }

        /** A text file, written in UTF-8. */
        public static SampleFile text(String name, String text) {
            byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
            return new SampleFile(name, bytes.length, (offset, into) -> into.put(bytes, (int) offset,
                    into.remaining()));
        }
    }

    /** The bytes of one file, produced on demand (a RAM file may be far larger than the heap). */
    @FunctionalInterface
    interface Content {
        /**
         * Puts the file's bytes from {@code offset} into {@code into}, filling its remaining space (the framework
         * never asks past the file's length). Must not depend on how the file is cut into reads.
         */
        void read(long offset, ByteBuffer into);
    }
}
