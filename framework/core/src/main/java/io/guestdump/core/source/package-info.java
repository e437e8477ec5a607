/** Guest sources: where a paused guest's memory and vCPU state come from (snapshot files, vmcores, live QEMU). */
package io.guestdump.core.source;
