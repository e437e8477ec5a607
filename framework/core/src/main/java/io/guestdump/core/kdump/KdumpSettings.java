package io.guestdump.core.kdump;

import com.typesafe.config.Config;
import io.guestdump.arch.api.InvalidInputException;

/**
 * The {@code guestdump.kdump} settings, read eagerly; defaults and documentation are in the core
 * {@code reference.conf}.
 *
 * @param excludeZeroPages leave all-zero pages out (dump level 1) instead of pointing them at one shared zero page
 * @param zlibLevel        the deflate level of kdump-zlib, 1 to 9
 * @param zstdLevel        the zstd level of kdump-zstd, 1 to 19
 * @param threads          compression threads; 0 means one per available processor
 * @param batchBytes       guest bytes handed to a compression thread at a time
 */
public record KdumpSettings(boolean excludeZeroPages, int zlibLevel, int zstdLevel, int threads, long batchBytes) {
    /** The most compression threads {@code guestdump.kdump.threads} may ask for. */
    public static final int MAX_THREADS = 256;


    /** Reads {@code guestdump.kdump} from the resolved configuration. */
    public static KdumpSettings from(Config config) {
        Config k = config.getConfig("guestdump.kdump");
        String zero = k.getString("zero-pages");
        if (!zero.equals("share") && !zero.equals("exclude")) {
            throw new InvalidInputException("guestdump.kdump.zero-pages = " + zero + " is not one of share, exclude");
        }
        int level = k.getInt("zlib-level");
        if (level < 1 || level > 9) {
            throw new InvalidInputException("guestdump.kdump.zlib-level = " + level + " is not between 1 and 9");
        }
        int zstdLevel = k.getInt("zstd-level");
        if (zstdLevel < 1 || zstdLevel > 19) {
            throw new InvalidInputException("guestdump.kdump.zstd-level = " + zstdLevel + " is not between 1 and 19");
        }
        int threads = k.getInt("threads");
        if (threads < 0 || threads > MAX_THREADS) {
            throw new InvalidInputException("guestdump.kdump.threads = " + threads + " is not between 0 and "
                    + MAX_THREADS + "; 0 means one per processor");
        }
        long batch = k.getBytes("batch-size");
        if (batch < 1 || batch > (64L << 20)) {
            throw new InvalidInputException("guestdump.kdump.batch-size = " + batch + " is not between 1 byte and "
                    + "64 MiB");
        }
        return new KdumpSettings(zero.equals("exclude"), level, zstdLevel, threads, batch);
    }

    /** The compression threads to start. */
    public int threadCount() {
        return threads == 0 ? Runtime.getRuntime().availableProcessors() : threads;
    }
}
