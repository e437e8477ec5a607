package io.guestdump.arch.api;

import java.math.BigInteger;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One vCPU's registers by name, as unsigned values of any width (128-bit vector registers included). Names are
 * the architecture's own, lower case; sub-fields use dots ({@code cs.base}). A register the source did not
 * provide is absent and reads as 0, as QEMU writes zero for state it lacks.
 *
 * @param index     the vCPU index (QEMU {@code cpu_index}), from 0
 * @param registers name to unsigned value, in the order the source gave them
 */
public record VcpuState(int index, Map<String, BigInteger> registers) {

    /** Copies the map, keeping its order, and checks values are unsigned. */
    public VcpuState {
        if (index < 0) {
            throw new IllegalArgumentException("negative vCPU index " + index);
        }
        LinkedHashMap<String, BigInteger> copy = new LinkedHashMap<>();
        for (Map.Entry<String, BigInteger> e : registers.entrySet()) {
            if (e.getValue().signum() < 0) {
                throw new IllegalArgumentException("register " + e.getKey() + " is negative: " + e.getValue());
            }
            copy.put(e.getKey(), e.getValue());
        }
        registers = Collections.unmodifiableMap(copy);
    }

    /** Whether the register was provided. */
    public boolean has(String name) {
        return registers.containsKey(name);
    }

    /** The register's value, 0 when absent. */
    public BigInteger value(String name) {
        return registers.getOrDefault(name, BigInteger.ZERO);
    }

    /** The low 64 bits of the register, 0 when absent. */
    public long u64(String name) {
        return value(name).longValue();
    }

    /** The low 32 bits of the register, 0 when absent. */
    public int u32(String name) {
        return value(name).intValue();
    }

    /** A copy with the given registers added or replaced. */
    public VcpuState with(Map<String, BigInteger> overrides) {
        LinkedHashMap<String, BigInteger> merged = new LinkedHashMap<>(registers);
        merged.putAll(overrides);
        return new VcpuState(index, merged);
    }

    /** Builds states register by register. */
    public static Builder builder(int index) {
        return new Builder(index);
    }

    /** Collects registers in order. */
    public static final class Builder {
        private final int index;
        private final LinkedHashMap<String, BigInteger> registers = new LinkedHashMap<>();
        private Integer pid;

        private Builder(int index) {
            this.index = index;
        }

        /** Sets a register from an unsigned 64-bit value. */
        public Builder set(String name, long unsignedValue) {
            registers.put(name, new BigInteger(Long.toUnsignedString(unsignedValue)));
            return this;
        }

        /** Sets a register of any width. */
        public Builder set(String name, BigInteger value) {
            registers.put(name, value);
            return this;
        }

        /**
         * Records the {@code pr_pid} a prstatus note carried (vCPU index + 1, see {@link PrStatus}); the note table
         * reader numbers the vCPUs from it when every vCPU has a usable one.
         */
        public Builder pid(int prPid) {
            this.pid = prPid;
            return this;
        }

        /** The recorded {@code pr_pid}, or null. */
        public Integer pid() {
            return pid;
        }

        /** The registers set so far, in order (a copy). */
        public Map<String, BigInteger> registers() {
            return new LinkedHashMap<>(registers);
        }

        /** The value set so far, 0 when absent (a reader may combine notes read before it). */
        public BigInteger value(String name) {
            return registers.getOrDefault(name, BigInteger.ZERO);
        }

        /** Whether the register is already set. */
        public boolean has(String name) {
            return registers.containsKey(name);
        }

        /** The finished state. */
        public VcpuState build() {
            return new VcpuState(index, registers);
        }
    }
}
