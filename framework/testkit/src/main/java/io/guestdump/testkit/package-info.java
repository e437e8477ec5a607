/** Test-only helpers shared by every module: golden files, byte comparison, generators. Never shipped. */
package io.guestdump.testkit;
