package dev.loglinear.cli.text;

import java.util.Locale;

/** Human-readable sizes and durations. */
public final class Units {
    private Units() {
    }

    /** Bytes with a binary prefix: "512 B", "32.0 KiB", "1.50 GiB". */
    public static String bytes(double b) {
        String[] unit = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
        int i = 0;
        while (b >= 1000 && i < unit.length - 1) {
            b /= 1024;
            i++;
        }
        if (i == 0) {
            return String.format(Locale.ROOT, "%.0f B", b);
        }
        return String.format(Locale.ROOT, b < 10 ? "%.2f %s" : b < 100 ? "%.1f %s" : "%.0f %s", b, unit[i]);
    }

    /** A duration given in nanoseconds: "850 ns", "12.3 us", "4.56 ms", "1.23 s". */
    public static String nanos(double ns) {
        if (ns < 1e3) {
            return String.format(Locale.ROOT, "%.0f ns", ns);
        }
        if (ns < 1e6) {
            return String.format(Locale.ROOT, ns < 1e4 ? "%.2f us" : "%.1f us", ns / 1e3);
        }
        if (ns < 1e9) {
            return String.format(Locale.ROOT, ns < 1e7 ? "%.2f ms" : "%.1f ms", ns / 1e6);
        }
        return String.format(Locale.ROOT, "%.2f s", ns / 1e9);
    }

    /** A relative error in scientific notation: "3.1e-07". */
    public static String error(double e) {
        return String.format(Locale.ROOT, "%.1e", e);
    }
}
