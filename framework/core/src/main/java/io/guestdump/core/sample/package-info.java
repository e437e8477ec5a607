/** The bundled sample guest: a deterministic x86_64 snapshot the project generates itself. */
package io.guestdump.core.sample;
