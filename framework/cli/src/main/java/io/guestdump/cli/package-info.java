/** The picocli command line: one class per command; parsing and reporting only. */
package io.guestdump.cli;
