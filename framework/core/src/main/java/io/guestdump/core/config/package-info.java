/** Configuration loading (HOCON layers) and the typed settings the rest of the framework sees. */
package io.guestdump.core.config;
