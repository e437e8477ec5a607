/** Finding architecture plugins: PF4J loading, one extension per architecture, per-plugin configuration. */
package io.guestdump.core.plugins;
