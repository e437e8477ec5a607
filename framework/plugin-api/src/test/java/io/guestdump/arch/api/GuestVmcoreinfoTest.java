package io.guestdump.arch.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The number rules of each VMCOREINFO key form, as the kernel's crash_core.c prints them. */
class GuestVmcoreinfoTest {
    static final String TEXT = """
            OSRELEASE=6.1.0-13-amd64
            PAGESIZE=4096
            SYMBOL(init_uts_ns)=ffffffff82a14a40
            SYMBOL(_stext)=0xffffffff81000000
            OFFSET(page.flags)=0
            OFFSET(list_head.next)=8
            SIZE(page)=64
            LENGTH(zone.free_area)=11
            NUMBER(phys_base)=-559939584
            NUMBER(PHYS_OFFSET)=0xffffde6000000000
            NUMBER(VA_BITS)=48
            KERNELOFFSET=3e000000
            CONFIG_X86_5LEVEL=y
            NUMBER(phys_base)=1
            """;

    @Test
    void numberIsDecimalAndMayBeNegativeUnlessHexPrefixed() {
        GuestVmcoreinfo vi = GuestVmcoreinfo.parse(TEXT);
        assertEquals(Optional.of(-559939584L), vi.number("phys_base"), "%ld, and the first of a repeated key wins");
        assertEquals(Optional.of(0xffffde6000000000L), vi.number("PHYS_OFFSET"));
        assertEquals(Optional.of(48L), vi.number("VA_BITS"));
        assertEquals(Optional.empty(), vi.number("absent"));
    }

    @Test
    void symbolIsHexWithOrWithoutPrefix() {
        GuestVmcoreinfo vi = GuestVmcoreinfo.parse(TEXT);
        assertEquals(Optional.of(0xffffffff82a14a40L), vi.symbol("init_uts_ns"));
        assertEquals(Optional.of(0xffffffff81000000L), vi.symbol("_stext"));
        assertEquals(Optional.of(0x3e000000L), vi.hex("KERNELOFFSET"));
    }

    @Test
    void offsetSizeLengthArePlainDecimal() {
        GuestVmcoreinfo vi = GuestVmcoreinfo.parse(TEXT);
        assertEquals(Optional.of(0L), vi.offset("page.flags"));
        assertEquals(Optional.of(8L), vi.offset("list_head.next"));
        assertEquals(Optional.of(64L), vi.size("page"));
        assertEquals(Optional.of(11L), vi.length("zone.free_area"));
        assertEquals(Optional.of(4096L), vi.pageSize());
        assertEquals(Optional.of("6.1.0-13-amd64"), vi.osRelease());
        assertTrue(vi.config("X86_5LEVEL"));
    }

    @Test
    void emptyHasNothing() {
        assertTrue(GuestVmcoreinfo.empty().isEmpty());
        assertEquals(Optional.empty(), GuestVmcoreinfo.empty().number("phys_base"));
        assertEquals("", GuestVmcoreinfo.empty().text());
    }

    @Test
    void aMalformedValueNamesTheKeyAndTheText() {
        GuestVmcoreinfo vi = GuestVmcoreinfo.parse("NUMBER(phys_base)=12z\nSYMBOL(x)=-1\nSIZE(page)=\n");
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> vi.number("phys_base"));
        assertTrue(e.getMessage().contains("NUMBER(phys_base)=12z"), e.getMessage());
        e = assertThrows(InvalidInputException.class, () -> vi.symbol("x"));
        assertTrue(e.getMessage().contains("SYMBOL(x)=-1"), e.getMessage());
        assertThrows(InvalidInputException.class, () -> vi.size("page"));
    }
}
