package io.guestdump.cli;

/** Sets slf4j-simple's level before the first logger exists. */
final class Logging {
    private Logging() {}

    static void configure(String[] args) {
        boolean verbose = false;
        for (String a : args) {
            if (a.equals("-v") || a.equals("--verbose")) {
                verbose = true;
            }
        }
        setIfAbsent("org.slf4j.simpleLogger.defaultLogLevel", verbose ? "debug" : "warn");
        setIfAbsent("org.slf4j.simpleLogger.logFile", "System.err");
        // PF4J logs a stack trace for every jar it cannot load; the registry reports those in one line each
        setIfAbsent("org.slf4j.simpleLogger.log.org.pf4j", verbose ? "debug" : "off");
        setIfAbsent("org.slf4j.simpleLogger.showThreadName", "false");
        setIfAbsent("org.slf4j.simpleLogger.levelInBrackets", "true");
    }

    private static void setIfAbsent(String key, String value) {
        if (System.getProperty(key) == null) {
            System.setProperty(key, value);
        }
    }
}
