/** Reading the guest kernel's own data (struct page, mem_section, ...) through its virtual addresses. */
package io.guestdump.core.kernel;
