/**
 * The kdump-compressed vmcore ({@code makedumpfile}'s diskdump format, header version 6), in its seekable and its
 * flattened (streamable) forms: header and sub-header layouts, bitmaps, page descriptors, page codecs and the
 * parallel page pipeline.
 */
package io.guestdump.core.kdump;
