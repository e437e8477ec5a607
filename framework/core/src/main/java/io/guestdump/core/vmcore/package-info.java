/** vmcore assembly: the pure layout plan, the streaming writer, and the atomic output file. */
package io.guestdump.core.vmcore;
