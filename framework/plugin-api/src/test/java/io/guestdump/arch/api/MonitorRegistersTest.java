package io.guestdump.arch.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The {@code info registers -a} skeleton's hooks: headerless text, per-vCPU grammar state, a final fix-up. */
class MonitorRegistersTest {
    /** {@code A=hex} and {@code B=hex} tokens; B is required; a second A line adds to the first (state). */
    static class Toy implements MonitorRegisters.Grammar {
        private final boolean headerless;

        Toy(boolean headerless) {
            this.headerless = headerless;
        }

        static final class Seen {
            int lines;
        }

        @Override
        public void line(MonitorRegisters.Line line, MonitorRegisters.Cpu cpu) {
            cpu.state(Seen::new).lines++;
            for (String t : line.tokens()) {
                String[] kv = t.split("=", 2);
                if (kv.length != 2 || !List.of("A", "B").contains(kv[0])) {
                    throw line.error("cannot read `" + t + "`");
                }
                cpu.put(kv[0].toLowerCase(), line.hex(kv[1], kv[0], 16));
            }
        }

        @Override
        public List<MonitorRegisters.Required> required(MonitorRegisters.Cpu cpu) {
            return List.of(new MonitorRegisters.Required("b", "B"));
        }

        @Override
        public void finish(MonitorRegisters.Cpu cpu) {
            // a fix-up: record how many lines the vCPU had in the high bits of b
            cpu.replace("b", cpu.value("b").or(BigInteger.valueOf(cpu.state(Seen::new).lines).shiftLeft(32)));
        }

        @Override
        public boolean headerless() {
            return headerless;
        }
    }

    @Test
    void stateIsPerVcpuAndTheFinalStepMayReplaceAValue() {
        List<VcpuState> cpus = MonitorRegisters.parse("CPU#0\nA=1\nB=2\nCPU#1\nA=3 B=4\n", "r.txt", new Toy(false));
        assertEquals(0x2_0000_0002L, cpus.get(0).value("b").longValue());
        assertEquals(0x1_0000_0004L, cpus.get(1).value("b").longValue());
    }

    @Test
    void aHeaderlessGrammarReadsOneVcpuWithoutAHeaderAsCpu0() {
        List<VcpuState> cpus = MonitorRegisters.parse("\nA=1\nB=2\n", "r.txt", new Toy(true));
        assertEquals(1, cpus.size());
        assertEquals(0, cpus.get(0).index());
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> MonitorRegisters.parse("A=1\nB=2\nCPU#1\nB=3\n", "r.txt", new Toy(true)));
        assertTrue(e.getMessage().startsWith("r.txt line 3: a `CPU#<n>` header follows register lines that had none"),
                e.getMessage());
    }

    @Test
    void withoutTheHookARegisterBeforeTheFirstHeaderIsRefused() {
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> MonitorRegisters.parse("A=1\nCPU#0\nB=2\n", "r.txt", new Toy(false)));
        assertTrue(e.getMessage().startsWith("r.txt line 1: register line before the first `CPU#<n>` header: `A=1`."),
                e.getMessage());
    }

    @Test
    void replacingARegisterNeverReadIsAProgrammingError() {
        MonitorRegisters.Grammar bad = new Toy(false) {
            @Override
            public void finish(MonitorRegisters.Cpu cpu) {
                cpu.replace("c", BigInteger.ONE);
            }
        };
        assertThrows(IllegalStateException.class, () -> MonitorRegisters.parse("CPU#0\nB=1\n", "r.txt", bad));
    }
}
