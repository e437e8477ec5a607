/**
 * The architecture plugin API: the one extension point {@link io.guestdump.arch.api.ArchitectureSupport}, the
 * values it exchanges with the framework, and the exceptions users see.
 *
 * <p>Compatibility promise: within a minor version, plugins compiled against this package keep working; methods
 * are only added with defaults. Plugins get this module at {@code provided} scope and must not bundle it.
 */
package io.guestdump.arch.api;
