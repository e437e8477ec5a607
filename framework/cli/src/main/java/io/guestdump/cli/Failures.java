package io.guestdump.cli;

import com.typesafe.config.ConfigException;
import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.arch.api.UnsupportedGuestException;
import io.guestdump.arch.api.VmcoreWriteException;
import io.guestdump.core.GuestLeftPausedException;
import io.guestdump.core.config.ConfigErrors;
import io.guestdump.core.inspect.Json;
import java.io.PrintWriter;
import java.nio.file.InvalidPathException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How a command that failed is reported: the exit code its exception means, one line on standard error (and the stack
 * trace with {@code --verbose}), and with {@code --json} an error object on standard output. Refers to no picocli
 * type, so that {@link Main}'s fast paths report exactly as the commands do without loading picocli.
 */
final class Failures {
    private Failures() {}

    /** Reports {@code e} and returns the exit code. */
    static int report(Exception e, boolean verbose, boolean json, PrintWriter out, PrintWriter err) {
        int code;
        String msg = e.getMessage() == null ? e.toString() : e.getMessage();
        GuestLeftPausedException paused = pausedGuest(e);
        if (paused != null) {
            code = ExitCodes.GUEST_PAUSED;
        } else if (e instanceof InvalidInputException || e instanceof UnsupportedGuestException) {
            code = ExitCodes.USAGE;
        } else if (e instanceof ConfigException ce) {
            code = ExitCodes.USAGE;
            msg = ConfigErrors.describe(ce, Environment.lastLoaded());
        } else if (e instanceof InvalidPathException ip) {
            code = ExitCodes.USAGE;
            msg = "the path " + ip.getInput() + " cannot be represented in this system's file name encoding ("
                    + System.getProperty("sun.jnu.encoding") + "); run guestdump in a UTF-8 locale (e.g. "
                    + "LC_ALL=C.UTF-8) or choose an ASCII name";
        } else if (e instanceof VmcoreWriteException) {
            code = ExitCodes.DUMP_FAILED;
        } else {
            code = ExitCodes.INTERNAL;
        }
        if (code == ExitCodes.INTERNAL) {
            msg = "internal error: " + e + (verbose ? "" : " (run with --verbose for details)");
        }
        if (json) {
            jsonError(out, code, msg);
        }
        err.println("guestdump: " + msg);
        if (paused != null && paused != e) {
            err.println("guestdump: " + paused.getMessage());
        }
        if (verbose) {
            e.printStackTrace(err);
        }
        err.flush();
        return code;
    }

    /** With {@code --json}, errors are a JSON object on standard output too (docs/json-schema.md). */
    static void jsonError(PrintWriter out, int code, String message) {
        Map<String, Object> error = new LinkedHashMap<>();
        error.put("exit", code);
        error.put("message", message);
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("schema", Json.SCHEMA);
        root.put("error", error);
        out.println(Json.render(root));
        out.flush();
    }

    /** The exception, or one suppressed by it, saying that the guest guestdump stopped stays paused. */
    private static GuestLeftPausedException pausedGuest(Throwable e) {
        if (e instanceof GuestLeftPausedException p) {
            return p;
        }
        for (Throwable s : e.getSuppressed()) {
            if (s instanceof GuestLeftPausedException p) {
                return p;
            }
        }
        return null;
    }
}
