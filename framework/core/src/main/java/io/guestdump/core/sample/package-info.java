/**
 * The bundled sample guest: the files of the sample a plugin generates ({@link io.guestdump.arch.api.SampleGuest}),
 * written to a directory.
 */
package io.guestdump.core.sample;
