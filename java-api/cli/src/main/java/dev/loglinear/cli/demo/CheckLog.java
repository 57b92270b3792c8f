package dev.loglinear.cli.demo;

import dev.loglinear.cli.text.ProgressBar;
import dev.loglinear.cli.text.Units;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The demo's checks: each prints one line as it is made; the log knows whether all passed. */
final class CheckLog {
    private final PrintStream out;
    private final List<String> failed = new ArrayList<>();
    private int count;

    CheckLog(PrintStream out) {
        this.out = out;
    }

    /** Records that {@code error <= tolerance} and prints the outcome; returns whether it held. */
    boolean check(String what, double error, double tolerance) {
        return check(what, error, tolerance, null);
    }

    /** Like {@link #check(String, double, double)}, printing above {@code bar} when it is not null. */
    boolean check(String what, double error, double tolerance, ProgressBar bar) {
        count++;
        boolean pass = error <= tolerance;
        if (!pass) {
            failed.add(what);
        }
        String line = String.format(Locale.ROOT, "   %-58s %s  (tolerance %s)  %s%n", what, Units.error(error),
                Units.error(tolerance), pass ? "ok" : "FAILED");
        if (bar != null) {
            bar.print(line);
        } else {
            out.print(line);
        }
        return pass;
    }

    int count() {
        return count;
    }

    List<String> failed() {
        return failed;
    }
}
