package dev.loglinear.cli.compute;

import dev.loglinear.cli.io.GoldenCase;
import dev.loglinear.cli.io.NpyArray;
import dev.loglinear.cli.reference.Errors;
import java.io.IOException;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/** The checks of {@code lla compute}, each printing one line per array and returning whether all pass. */
public final class Comparison {
    private Comparison() {
    }

    /**
     * The continuation contract: the run split at {@code n} agrees with the one-call run on
     * {@code o} (all tokens) and on the gradients of tokens {@code n..T-1}.
     */
    public static boolean continuation(Map<String, NpyArray> whole, Map<String, NpyArray> split, long n,
                                       Tolerances tolerance, PrintStream out) {
        boolean ok = true;
        for (Map.Entry<String, NpyArray> e : split.entrySet()) {
            String name = e.getKey();
            if (name.equals("state")) {
                continue;
            }
            NpyArray ref = whole.get(name);
            NpyArray expected = name.equals("o") ? ref : tokens(ref, n, ref.dim(1));
            ok &= line(out, "continuation at " + n + ": " + name, Errors.relative(e.getValue().data(), expected.data()),
                    tolerance.of(name));
        }
        return ok;
    }

    /** Every computed array against the reference of the same name. */
    public static boolean againstReference(Map<String, NpyArray> got, Map<String, NpyArray> reference,
                                           Tolerances tolerance, PrintStream out) {
        boolean ok = true;
        for (Map.Entry<String, NpyArray> e : got.entrySet()) {
            NpyArray ref = reference.get(e.getKey());
            if (ref == null) {
                continue;
            }
            if (!Arrays.equals(ref.shape(), e.getValue().shape())) {
                out.printf("  %-28s shape %s, reference %s  FAILED%n", "reference: " + e.getKey(),
                        e.getValue().shapeString(), ref.shapeString());
                ok = false;
                continue;
            }
            ok &= line(out, "reference: " + e.getKey(), Errors.relative(e.getValue().data(), ref.data()),
                    tolerance.of(e.getKey()));
        }
        return ok;
    }

    /**
     * A state {@code [B, H, Ls, K, V]} against a golden one with fewer or as many levels: the
     * levels the golden has within tolerance, every level beyond them exactly zero.
     */
    public static boolean state(NpyArray got, NpyArray golden, double tolerance, PrintStream out) {
        long[] g = got.shape(), r = golden.shape();
        if (g.length != 5 || r.length != 5 || g[0] != r[0] || g[1] != r[1] || g[3] != r[3] || g[4] != r[4]
                || g[2] < r[2]) {
            out.printf("  %-28s shape %s, golden %s  FAILED%n", "reference: state", got.shapeString(),
                    golden.shapeString());
            return false;
        }
        NpyArray kept = levels(got, 0, r[2]);
        boolean ok = line(out, "reference: state", Errors.relative(kept.data(), golden.data()), tolerance);
        if (g[2] > r[2]) {
            double extra = Arrays.stream(levels(got, r[2], g[2]).data()).map(Math::abs).max().orElse(0);
            ok &= line(out, "reference: state extra levels", extra, 0);
        }
        return ok;
    }

    /** The golden outputs of a case for the given names (those it has). */
    public static Map<String, NpyArray> goldenOutputs(GoldenCase c, Collection<String> names) throws IOException {
        Map<String, NpyArray> ref = new LinkedHashMap<>();
        for (String name : names) {
            if (c.has(name)) {
                ref.put(name, c.read(name));
            }
        }
        return ref;
    }

    /** The inputs of a case rounded as {@code precision} stores them, in float64. */
    public static Map<String, double[]> roundedInputs(GoldenCase c, ComputeDType precision) throws IOException {
        Map<String, double[]> rounded = new HashMap<>();
        for (String name : new String[] {"q", "k", "v", "g", "l", "beta", "do"}) {
            if (c.has(name)) {
                rounded.put(name, precision.rounded(name, c.read(name).data()));
            }
        }
        return rounded;
    }

    private static boolean line(PrintStream out, String what, double error, double tolerance) {
        boolean pass = error <= tolerance;
        out.printf("  %-34s relative error %.3e (tolerance %.0e) %s%n", what, error, tolerance, pass ? "ok" : "FAILED");
        return pass;
    }

    /** Rows [start, end) of axis 1 (tokens) of a [B, T, ...] array. */
    static NpyArray tokens(NpyArray a, long start, long end) {
        return slice(a, 1, start, end);
    }

    private static NpyArray levels(NpyArray a, long start, long end) {
        return slice(a, 2, start, end);
    }

    private static NpyArray slice(NpyArray a, int axis, long start, long end) {
        long[] shape = a.shape();
        long outer = 1, inner = 1;
        for (int i = 0; i < axis; i++) {
            outer *= shape[i];
        }
        for (int i = axis + 1; i < shape.length; i++) {
            inner *= shape[i];
        }
        long[] s = shape.clone();
        s[axis] = end - start;
        double[] data = new double[Math.toIntExact(outer * (end - start) * inner)];
        int at = 0;
        for (long o = 0; o < outer; o++) {
            int from = Math.toIntExact((o * shape[axis] + start) * inner);
            int count = Math.toIntExact((end - start) * inner);
            System.arraycopy(a.data(), from, data, at, count);
            at += count;
        }
        return new NpyArray(s, data);
    }
}
