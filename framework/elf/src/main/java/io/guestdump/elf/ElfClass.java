package io.guestdump.elf;

/** {@code EI_CLASS}: the ELF file class, which fixes the width of addresses and offsets and the struct sizes. */
public enum ElfClass {
    /** {@code ELFCLASS32}: 32-bit addresses and offsets. */
    ELF32(1, 52, 32, 40, 4),
    /** {@code ELFCLASS64}: 64-bit addresses and offsets. */
    ELF64(2, 64, 56, 64, 8);

    private final int wire;
    private final int ehdrSize;
    private final int phdrSize;
    private final int shdrSize;
    private final int addressSize;

    ElfClass(int wire, int ehdrSize, int phdrSize, int shdrSize, int addressSize) {
        this.wire = wire;
        this.ehdrSize = ehdrSize;
        this.phdrSize = phdrSize;
        this.shdrSize = shdrSize;
        this.addressSize = addressSize;
    }

    /** The {@code EI_CLASS} byte. */
    public int wire() {
        return wire;
    }

    /** {@code sizeof(ElfN_Ehdr)}: 52 or 64. */
    public int ehdrSize() {
        return ehdrSize;
    }

    /** {@code sizeof(ElfN_Phdr)}: 32 or 56. */
    public int phdrSize() {
        return phdrSize;
    }

    /** {@code sizeof(ElfN_Shdr)}: 40 or 64. */
    public int shdrSize() {
        return shdrSize;
    }

    /** Bytes of an {@code ElfN_Addr}/{@code ElfN_Off}: 4 or 8. */
    public int addressSize() {
        return addressSize;
    }

    /** Whether the unsigned value fits an address or offset field of this class. */
    public boolean fits(long unsignedValue) {
        return this == ELF64 || (unsignedValue >>> 32) == 0;
    }

    /** Parses the {@code EI_CLASS} byte. */
    public static ElfClass fromWire(int value) {
        for (ElfClass c : values()) {
            if (c.wire == value) {
                return c;
            }
        }
        throw new IllegalArgumentException("unknown EI_CLASS: " + value);
    }
}
