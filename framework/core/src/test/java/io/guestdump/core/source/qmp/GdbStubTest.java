package io.guestdump.core.source.qmp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The GDB remote-protocol client against a fake of QEMU 7.2's aarch64 gdbstub. */
class GdbStubTest {
    @TempDir
    Path dir;

    @Test
    void registersAreFoundByNameAndReadPerThread() throws IOException {
        Path socket = dir.resolve("gdb.sock");
        try (FakeGdbStub fake = new FakeGdbStub(socket);
                GdbStub stub = GdbStub.connect(socket, Duration.ofSeconds(5))) {
            Map<String, GdbStub.Register> regs = stub.registers();
            // implicit numbers count on from the previous register, explicit regnum resets the count; registers in
            // XML comments (QEMU 7.2 i386-64bit.xml) do not count
            assertEquals(List.of("x0=0", "x1=1", "pc=2", "SCTLR=74", "TTBR0_EL1=146", "NEXT=147"), regs.values()
                    .stream().map(r -> r.name() + "=" + r.number()).toList());
            List<String> threads = stub.threads();
            assertEquals(List.of("p01.01", "p01.02"), threads);
            assertEquals(List.of(0, 1), threads.stream().map(GdbStub::cpuIndex).toList());
            for (String t : threads) {
                int cpu = GdbStub.cpuIndex(t);
                stub.select(t);
                assertEquals(BigInteger.valueOf(FakeGdbStub.value(74, cpu)), stub.read(regs.get("SCTLR")));
                assertEquals(BigInteger.valueOf(FakeGdbStub.value(146, cpu)), stub.read(regs.get("TTBR0_EL1")));
                assertNull(stub.read(regs.get("x0")), "an error reply: not given");
            }
            assertEquals("qSupported:multiprocess+", fake.packets.get(0));
        }
    }

    @Test
    void threadIdsNameTheVcpuIndexPlusOne() {
        assertEquals(0, GdbStub.cpuIndex("p01.01"));
        assertEquals(15, GdbStub.cpuIndex("p1.10"));
        assertEquals(2, GdbStub.cpuIndex("3"));
    }
}
