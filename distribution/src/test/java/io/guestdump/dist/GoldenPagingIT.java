package io.guestdump.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.guestdump.elf.ElfClass;
import io.guestdump.elf.ElfCodec;
import io.guestdump.elf.ElfHeader;
import io.guestdump.elf.ProgramHeader;
import io.guestdump.testkit.GoldenFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Issue 4's must-show on every golden guest (each runs with paging on): gdb-multiarch, given guestdump's
 * {@code --paging} re-dump of QEMU 7.2's dump, disassembles the instruction at each vCPU's PC and reads the
 * {@code init_uts_ns} release string (address from the guest's VMCOREINFO) through virtual addresses.
 *
 * <p>QEMU 7.2's own {@code paging=true} dumps do the same only on x86 and s390x. On x86 QEMU walks the page
 * tables; its file is rebuilt here from the golden paging=false dump and the golden {@code qemu-paging-loads.txt}
 * (QEMU writes the same notes and memory, behind a longer program header table). On the other arches QEMU
 * walks nothing and its paging=true file is byte-identical to the paging=false one (qemu-lab-notes §6), so the
 * golden file stands for it: s390x passes only because the kernel's virtual addresses equal physical ones there;
 * arm, aarch64 and ppc64 have no virtual mapping at all, so gdb cannot read {@code $pc}.
 */
class GoldenPagingIT {
    @TempDir
    Path work;

    /** new_utsname: sysname, nodename, release, ... each char[65]. */
    static final int UTSNAME_RELEASE = 2 * 65;

    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "x86_64,  i386:x86-64,      0,   ret;ret",
        "i386,    i386,             0,   pop %ebp;pop %ebp",
        // aarch64 and arm: the kernel's mappings of device memory (GIC, UART on virt) are not skipped entries
        "aarch64, aarch64,          0,   autiasp;autiasp",
        "arm,     arm,              0,   bx lr;bx lr",
        "ppc64le, powerpc:common64, 2,   'li r4,0;li r4,0'",
        "s390x,   s390:64-bit,      0,   'agr %r1,%r6;br %r14'"})
    void gdbReadsEachPcAndTheReleaseThroughVirtualAddresses(String arch, String gdbArch, int skipped,
            String instructions) throws Exception {
        Path qemu = GoldenFiles.unpackedFull(arch);
        Path ours = work.resolve(arch + ".vmcore");
        Dist.Run dump = Dist.guestdump(work, "dump", "elf:" + qemu, "--paging", "-o", ours.toString()).expect(0);
        Dist.Run info = Dist.guestdump(work, "info", ours.toString()).expect(0);
        assertTrue(info.out().contains("page-table walk: from vCPU 0, " + skipped + " entries skipped"), info.out());
        Map<String, String> vmcoreinfo = vmcoreinfo(ours);
        String release = vmcoreinfo.get("OSRELEASE");
        long utsname = Long.parseUnsignedLong(vmcoreinfo.get("SYMBOL(init_uts_ns)"), 16)
                + Long.parseLong(vmcoreinfo.get("OFFSET(uts_namespace.name)"));

        Tools.require("gdb-multiarch");
        Reading r = read(ours, gdbArch, "1 2", utsname);
        // x86: the instructions after hlt that QEMU's own paging dump shows too (qemu-lab-notes §7)
        assertEquals(List.of(instructions.split(";")), r.mnemonics(), r.gdb());
        assertEquals(release, r.release(), r.gdb());
        assertFalse(r.gdb().contains("Cannot access memory"), r.gdb());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "x86_64,  i386:x86-64,      1 2, ret;ret",
        "i386,    i386,             1 2, pop %ebp;pop %ebp",
        "aarch64, aarch64,          1 2, ",
        "arm,     arm,              1 2, ",
        "ppc64le, powerpc:common64, 2,   ",
        "s390x,   s390:64-bit,      1 2, 'agr %r1,%r6;br %r14'"})
    void qemusOwnPagingDumpIsReadableOnlyOnX86AndS390x(String arch, String gdbArch, String threads,
            String instructions) throws Exception {
        Path full = GoldenFiles.unpackedFull(arch);
        // QEMU writes no VMCOREINFO note on arm, ppc64, s390x: take the guest's from our re-dump
        Path redump = work.resolve(arch + ".vmcore");
        Dist.guestdump(work, "dump", "elf:" + full, "-o", redump.toString()).expect(0);
        Map<String, String> vmcoreinfo = vmcoreinfo(redump);
        Files.delete(redump);
        Path qemu = arch.equals("x86_64") || arch.equals("i386") ? qemuPagingDump(arch, full) : full;
        long utsname = Long.parseUnsignedLong(vmcoreinfo.get("SYMBOL(init_uts_ns)"), 16)
                + Long.parseLong(vmcoreinfo.get("OFFSET(uts_namespace.name)"));

        Tools.require("gdb-multiarch");
        // ppc64: QEMU's pr_pid 0 for both vCPUs leaves gdb one live thread, number 2 (1 "has terminated")
        Reading r = read(qemu, gdbArch, threads, utsname);
        if (instructions != null) {
            // the same instructions as through guestdump's --paging dump
            assertEquals(List.of(instructions.split(";")), r.mnemonics(), r.gdb());
            assertEquals(vmcoreinfo.get("OSRELEASE"), r.release(), r.gdb());
        } else {
            for (String insn : r.instructions()) {
                assertTrue(insn.contains("Cannot access memory"), insn + "\n" + r.gdb());
            }
            assertNull(r.release(), r.gdb());
        }
    }

    /** What gdb printed: one {@code x/i $pc} line per thread, and the release string if it could read it. */
    record Reading(List<String> instructions, String release, String gdb) {
        /** Each {@code x/i} line without the address, blanks collapsed: {@code "pop %ebp"}. */
        List<String> mnemonics() {
            return instructions.stream()
                    .map(l -> l.replaceFirst("^=> 0x[0-9a-f]+:\\s+", "").replaceAll("\\s+", " ").trim())
                    .toList();
        }
    }

    /** Runs gdb on {@code core}: {@code x/i $pc} in each of {@code threads}, then {@code x/s} the release. */
    Reading read(Path core, String gdbArch, String threads, long utsname) throws Exception {
        // sh merges stderr (where gdb puts "Cannot access memory") into stdout, in order
        List<String> cmd = new ArrayList<>(List.of("sh", "-c", "exec \"$0\" \"$@\" 2>&1", "gdb-multiarch", "-nx",
                "-batch", "-ex", "set architecture " + gdbArch, "-ex", "core-file " + core));
        for (String t : threads.split(" ")) {
            cmd.addAll(List.of("-ex", "thread " + t, "-ex", "echo \\n@insn\\n", "-ex", "x/i $pc"));
        }
        cmd.addAll(List.of("-ex", "echo \\n@release\\n", "-ex",
                "x/s 0x" + Long.toHexString(utsname + UTSNAME_RELEASE)));
        String out = Dist.run(work, Map.of(), cmd).expect(0).out();
        List<String> insns = new ArrayList<>();
        String[] lines = out.split("\n");
        String release = null;
        for (int i = 0; i + 1 < lines.length; i++) {
            if (lines[i].equals("@insn")) {
                insns.add(lines[i + 1]);
            } else if (lines[i].equals("@release")) {
                Matcher m = Pattern.compile(":\\s+\"([^\"]*)\"").matcher(lines[i + 1]);
                release = m.find() ? m.group(1) : null;
            }
        }
        assertEquals(threads.split(" ").length, insns.size(), out);
        return new Reading(insns, release, out);
    }

    /** The VMCOREINFO note of a vmcore, as key=value. */
    static Map<String, String> vmcoreinfo(Path vmcore) throws IOException {
        try (FileChannel ch = FileChannel.open(vmcore)) {
            ByteBuffer head = ByteBuffer.allocate(64);
            ch.read(head, 0);
            head.flip();
            ElfHeader h = ElfCodec.readHeader(head);
            ByteBuffer phdrs = ByteBuffer.allocate(h.phnum() * h.phentsize()).order(h.data().order());
            ch.read(phdrs, h.phoff());
            phdrs.flip();
            ProgramHeader note = ElfCodec.readProgramHeader(phdrs, h.elfClass());
            assertEquals(4, note.type(), "PT_NOTE first");
            ByteBuffer notes = ByteBuffer.allocate(Math.toIntExact(note.filesz()));
            ch.read(notes, note.offset());
            String text = new String(notes.array(), StandardCharsets.ISO_8859_1);
            int at = text.indexOf("OSRELEASE=");
            assertTrue(at >= 0, "no VMCOREINFO note in " + vmcore);
            Map<String, String> kv = new HashMap<>();
            for (String line : text.substring(at).split("\n")) {
                int eq = line.indexOf('=');
                if (eq > 0) {
                    kv.put(line.substring(0, eq), line.substring(eq + 1));
                }
            }
            return kv;
        }
    }

    /**
     * QEMU 7.2's paging=true dump of the golden x86 guest: its paging=false file with the program header table
     * replaced by the PT_NOTE and the PT_LOADs of {@code qemu-paging-loads.txt}; everything after the table
     * (notes, memory, {@code .shstrtab}) moves by the table's growth, as in QEMU's file.
     */
    Path qemuPagingDump(String arch, Path full) throws IOException {
        List<long[]> loads = new ArrayList<>();
        for (String line : Files.readAllLines(GoldenFiles.require(arch, "qemu-paging-loads.txt"))) {
            String[] f = line.trim().split("\\s+");
            long[] l = new long[5];
            for (int i = 0; i < 5; i++) {
                l[i] = Long.parseUnsignedLong(f[i].substring(2), 16);
            }
            loads.add(l);
        }
        Path out = work.resolve(arch + "-qemu-paging.elf");
        try (FileChannel in = FileChannel.open(full);
                FileChannel os = FileChannel.open(out, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer head = ByteBuffer.allocate(4096);
            in.read(head, 0);
            head.flip();
            ElfHeader h = ElfCodec.readHeader(head);
            assertEquals(ElfClass.ELF64, h.elfClass(), "QEMU's x86 dumps are ELF64");
            head.position(Math.toIntExact(h.phoff()));
            List<ProgramHeader> old = new ArrayList<>();
            for (int i = 0; i < h.phnum(); i++) {
                old.add(ElfCodec.readProgramHeader(head, h.elfClass()));
            }
            ProgramHeader note = old.get(0);
            assertEquals(h.phoff() + (long) h.phnum() * h.phentsize(), note.offset(), "notes follow the table");
            long growth = (long) (1 + loads.size() - h.phnum()) * h.phentsize();
            for (long[] l : loads) {
                // QEMU's offsets: where paging=false has that physical address, moved by the growth
                long was = old.stream().skip(1).filter(p -> p.paddr() <= l[2] && l[2] < p.paddr() + p.filesz())
                        .mapToLong(p -> p.offset() + l[2] - p.paddr()).findFirst().orElseThrow();
                assertEquals(was + growth, l[0], "QEMU's offset for paddr 0x" + Long.toHexString(l[2]));
            }
            ByteBuffer top = ByteBuffer.allocate(Math.toIntExact(note.offset() + growth)).order(h.data().order());
            top.put(head.array(), 0, Math.toIntExact(h.phoff()));
            top.putShort(56, (short) (1 + loads.size()));
            for (int s = 1; s < h.shnum(); s++) {
                int at = Math.toIntExact(h.shoff() + (long) s * h.shentsize() + 24);
                long off = top.getLong(at);
                top.putLong(at, off == 0 ? 0 : off + growth);
            }
            top.position(Math.toIntExact(h.phoff()));
            ElfCodec.writeProgramHeader(top, h.elfClass(), new ProgramHeader(note.type(), note.flags(),
                    note.offset() + growth, note.vaddr(), note.paddr(), note.filesz(), note.memsz(), note.align()));
            for (long[] l : loads) {
                ElfCodec.writeProgramHeader(top, h.elfClass(), new ProgramHeader(1, 0, l[0], l[1], l[2], l[3], l[4], 0));
            }
            top.flip();
            os.write(top, 0);
            long from = note.offset();
            long size = in.size();
            while (from < size) {
                from += in.transferTo(from, size - from, os.position(from + growth));
            }
        }
        return out;
    }
}
