package io.guestdump.core;

import io.guestdump.arch.api.ArchitectureSupport;
import io.guestdump.arch.api.CpuNote;
import io.guestdump.arch.api.DumpTarget;
import io.guestdump.arch.api.GuestState;
import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.arch.api.SampleGuest;
import io.guestdump.arch.api.NoteGroup;
import io.guestdump.arch.api.VcpuState;
import io.guestdump.elf.ElfClass;
import io.guestdump.elf.ElfData;
import io.guestdump.elf.Note;
import io.guestdump.elf.NoteType;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.pf4j.Extension;

/**
 * A test architecture on the class path: "toy64" (ELF64 LSB), "toy32" (ELF32 LSB), "toybe" (ELF64 MSB). One CORE
 * note of 16 bytes per vCPU (pid u32, pad, pc u64) and one QEMU note of 8 bytes (sp). Monitor text: lines
 * {@code CPU#n} and {@code PC=hex SP=hex}.
 */
@Extension
public final class ToyArchitecture implements ArchitectureSupport {
    @Override
    public String id() {
        return "toy";
    }

    @Override
    public Set<String> machines() {
        return Set.of("toy64", "toy32", "toybe");
    }

    @Override
    public Set<Integer> elfMachines() {
        return Set.of(TestMachines.EM_RISCV);
    }

    @Override
    public DumpTarget describe(GuestState guest) {
        return switch (guest.machine()) {
            case "toy32" -> new DumpTarget(TestMachines.EM_RISCV, ElfClass.ELF32, ElfData.LSB, 4096);
            case "toybe" -> new DumpTarget(TestMachines.EM_RISCV, ElfClass.ELF64, ElfData.MSB, 4096);
            default -> new DumpTarget(TestMachines.EM_RISCV, ElfClass.ELF64, ElfData.LSB, 4096);
        };
    }

    /** utsname.machine the toy declares for the kdump header. */
    public static final String UTS_MACHINE = "toy-machine";

    @Override
    public String utsMachine(DumpTarget target) {
        return UTS_MACHINE;
    }

    @Override
    public String machineFor(DumpTarget target) {
        if (target.elfClass() == ElfClass.ELF32) {
            return "toy32";
        }
        return target.data() == ElfData.MSB ? "toybe" : "toy64";
    }

    @Override
    public List<CpuNote> cpuNotes(GuestState guest, DumpTarget target) {
        return List.of(
                new CpuNote("CORE", NoteType.NT_PRSTATUS, NoteGroup.ARCH, 16, (cpu, out) -> {
                    out.putInt(0, cpu.index() + 1);
                    out.putLong(8, cpu.u64("pc"));
                }),
                new CpuNote("QEMU", 0, NoteGroup.QEMU, 8, (cpu, out) -> out.putLong(0, cpu.u64("sp"))));
    }

    @Override
    public List<VcpuState> parseMonitorRegisters(String text, String sourceName) {
        List<VcpuState> cpus = new ArrayList<>();
        VcpuState.Builder b = null;
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].trim();
            if (line.isEmpty()) {
                continue;
            }
            if (line.startsWith("CPU#")) {
                if (b != null) {
                    cpus.add(b.build());
                }
                b = VcpuState.builder(cpus.size());
                continue;
            }
            if (b == null || !line.matches("PC=[0-9a-f]+ SP=[0-9a-f]+")) {
                throw new InvalidInputException(sourceName + ":" + (i + 1) + ": cannot parse '" + line
                        + "'; expected CPU#n or PC=hex SP=hex");
            }
            String[] parts = line.split(" ");
            b.set("pc", new BigInteger(parts[0].substring(3), 16));
            b.set("sp", new BigInteger(parts[1].substring(3), 16));
        }
        if (b != null) {
            cpus.add(b.build());
        }
        return cpus;
    }

    /** Declared so that the live {@code qmp:} path gets past its plugin check against the fake QEMU. */
    @Override
    public Set<String> migrationCpuSections() {
        return Set.of("toycpu");
    }

    @Override
    public Set<String> registerNames(String machine) {
        return Set.of("pc", "sp");
    }

    /** The toy's sample guest: one vCPU, one 8 KiB block whose byte at {@code a} is {@code a * 7}. */
    @Override
    public Optional<SampleGuest> sampleGuest() {
        return Optional.of(new SampleGuest() {
            @Override
            public String name() {
                return "sample-toy64";
            }

            @Override
            public String description() {
                return "a toy64 guest";
            }

            @Override
            public long defaultSize() {
                return 8192;
            }

            @Override
            public List<SampleFile> files(long size) {
                return List.of(
                        new SampleFile("sample-toy64-ram.bin", size, (offset, into) -> {
                            for (long a = offset; into.hasRemaining(); a++) {
                                into.put((byte) (a * 7));
                            }
                        }),
                        SampleFile.text("sample-toy64-registers.txt", "CPU#0\nPC=1000 SP=2000\n"),
                        SampleFile.text("sample-toy64.conf", "guest {\n  arch = toy64\n  memory = [ { start = 0, "
                                + "size = " + size + ", file = sample-toy64-ram.bin } ]\n"
                                + "  cpu-state-from = sample-toy64-registers.txt\n}\n"));
            }
        });
    }

    @Override
    public List<VcpuState> decodeNotes(List<Note> notes, DumpTarget target) {
        List<Long> pcs = new ArrayList<>();
        List<Long> sps = new ArrayList<>();
        for (Note n : notes) {
            if (n.owner().equals("CORE") && n.type() == NoteType.NT_PRSTATUS) {
                pcs.add(field(n, 16, 8, target));
            } else if (n.owner().equals("QEMU") && n.type() == 0) {
                sps.add(field(n, 8, 0, target));
            }
        }
        List<VcpuState> cpus = new ArrayList<>();
        for (int i = 0; i < pcs.size(); i++) {
            VcpuState.Builder b = VcpuState.builder(i).set("pc", pcs.get(i));
            if (i < sps.size()) {
                b.set("sp", sps.get(i));
            }
            cpus.add(b.build());
        }
        return cpus;
    }

    private static long field(Note n, int size, int offset, DumpTarget target) {
        if (n.descSize() != size) {
            throw new InvalidInputException("toy note " + n.owner() + " has " + n.descSize() + " bytes, not " + size);
        }
        return target.data().wrap(n.desc()).getLong(offset);
    }
}
