/** The framework facade: a dump request in, a vmcore out. */
package io.guestdump.core;
