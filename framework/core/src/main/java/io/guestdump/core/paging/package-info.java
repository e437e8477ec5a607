/**
 * Paging mode ({@code --paging}): the PT_LOADs come from the guests' page tables. A plugin's
 * {@link io.guestdump.arch.api.PageTableWalker} reports leaf mappings; {@link io.guestdump.core.paging.PagingPlanner}
 * applies QEMU's rule for which vCPUs are walked, drops leaves on device memory, and merges what is left in a
 * {@link io.guestdump.core.paging.MemoryMappingList}, a compact form of QEMU's sorted mapping list.
 */
package io.guestdump.core.paging;
