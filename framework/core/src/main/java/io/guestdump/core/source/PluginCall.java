package io.guestdump.core.source;

import io.guestdump.arch.api.GuestDumpException;
import io.guestdump.arch.api.InvalidInputException;
import java.nio.BufferUnderflowException;

/** Plugin code run on data read from a source file. */
@FunctionalInterface
interface PluginCall<T> {
    T run();

    /**
     * Runs {@code call}. Index, buffer and arithmetic errors inside a plugin mean the data is not what it expects:
     * they are reported as invalid input naming the file, the plugin and what it was reading.
     *
     * @param file     the source file, for the message
     * @param pluginId the plugin that ran
     * @param what     what the plugin was doing ("decoding notes")
     * @param data     what it read ("file's notes", "stream's state")
     */
    static <T> T guarded(Object file, String pluginId, String what, String data, PluginCall<T> call) {
        try {
            return call.run();
        } catch (GuestDumpException e) {
            throw e;
        } catch (IndexOutOfBoundsException | BufferUnderflowException | IllegalArgumentException
                | ArithmeticException e) {
            throw new InvalidInputException(file + ": " + pluginId + " " + what + " could not read the " + data
                    + ": " + e, e);
        }
    }
}
