package io.guestdump.arch.api;

import com.typesafe.config.Config;

/**
 * What the framework hands a plugin at construction.
 *
 * @param config the plugin's subtree {@code guestdump.arch.<id>}: its own {@code reference.conf}, overlaid by the
 *               user's {@code config/arch/<id>.conf}, {@code --config} files and {@code -D} settings
 */
public record ArchContext(Config config) {}
