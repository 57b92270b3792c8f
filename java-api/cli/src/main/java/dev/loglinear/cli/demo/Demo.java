package dev.loglinear.cli.demo;

import dev.loglinear.AttentionInputs;
import dev.loglinear.AttentionShape;
import dev.loglinear.DecodeState;
import dev.loglinear.ForwardResult;
import dev.loglinear.Gradients;
import dev.loglinear.Device;
import dev.loglinear.LogLinear;
import dev.loglinear.MathMode;
import dev.loglinear.State;
import dev.loglinear.Tensor;
import dev.loglinear.Variant;
import dev.loglinear.cli.EngineOptions;
import dev.loglinear.cli.compute.ComputeDType;
import dev.loglinear.cli.compute.Tolerances;
import dev.loglinear.cli.reference.Errors;
import dev.loglinear.cli.reference.M2Problem;
import dev.loglinear.cli.reference.MaterializedM2;
import dev.loglinear.cli.reference.SyntheticInputs;
import dev.loglinear.cli.text.ProgressBar;
import dev.loglinear.cli.text.TextTable;
import dev.loglinear.cli.text.Units;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The demo: one long sequence through forward, backward and decode, in four phases.
 *
 * <ol>
 * <li>Check the library against the O(T^2) formula, computed here in float64 Java, on the
 *     first tokens of the sequence: outputs and all gradients.</li>
 * <li>Forward and backward (chunked, O(T log T)) on longer and longer prefixes, timed.</li>
 * <li>Decode the whole sequence one token at a time and compare with the chunked forward;
 *     time the steps and show the state memory as the sequence grows, next to linear
 *     attention's state and a softmax KV cache.</li>
 * <li>The continuation contract: split the sequence at an odd position, export the state, and
 *     continue chunked (forward and backward) and by prefill + decode; export and compare
 *     the decoding state.</li>
 * <li>Gradients through the state (the backward contract): the whole sequence in segments,
 *     forward in order keeping each segment's initial state, backward in reverse order handing
 *     each segment's {@code dInitialState} to the one before it as {@code dFinalState}; every
 *     gradient of every token against the one-call backward of phase 2, timed.</li>
 * </ol>
 */
public final class Demo {
    private final DemoSettings s;
    private final EngineOptions engine;
    private final PrintStream out;
    private final CheckLog checks;

    public Demo(DemoSettings settings, EngineOptions engine, PrintStream out) {
        this.s = settings;
        this.engine = engine;
        this.out = out;
        this.checks = new CheckLog(out);
    }

    /** Runs every phase; true when every check passed. */
    public boolean run() {
        long start = System.nanoTime();
        if (engine.onCuda() && s.precision() == ComputeDType.F64) {
            throw new IllegalArgumentException("--dtype f64: the CUDA backend computes f32 and bf16 inputs "
                    + "(docs/cuda.md); use --dtype f32 or bf16, or --backend cpu");
        }
        // float32 on CUDA without TF32, so that it is held to float32's tolerance.
        LogLinear lla = engine.create(Variant.MAMBA2, 1.0,
                s.precision() == ComputeDType.F32 ? MathMode.EXACT_FP32 : MathMode.DEFAULT);
        int levels = (int) AttentionShape.levelsForPosition(s.length());
        out.printf("lla demo: log-linear attention (Mamba-2 variant) over one long sequence%n");
        out.printf("   libloglinear %s, backend %s, %s%n", LogLinear.version(), engine.describe(),
                s.precision().storageOf("q").name().toLowerCase(Locale.ROOT));
        out.printf("   T = %,d tokens, H = %d heads, G = %d group%s, K = V = %d, L = %d levels, seed %d%n%n",
                s.length(), s.heads(), s.groups(), s.groups() == 1 ? "" : "s", s.dim(), levels, s.seed());

        M2Problem problem = SyntheticInputs.generate(1, s.length(), s.heads(), s.groups(), s.dim(), s.dim(), levels,
                1.0, s.seed());
        double[] dOut = SyntheticInputs.upstreamGradient(problem, s.seed());

        referenceCheck(lla, problem, dOut);
        DemoSequence seq = new DemoSequence(problem, dOut, s.precision(), engine.device());
        Full full = growing(lla, seq);
        decode(lla, seq, full);
        continuation(lla, seq, full);
        segments(lla, seq, full);

        out.println();
        double seconds = (System.nanoTime() - start) / 1e9;
        if (checks.failed().isEmpty()) {
            out.printf("lla demo: all %d checks passed (%.1f s)%n", checks.count(), seconds);
            return true;
        }
        out.printf("lla demo: %d of %d checks FAILED: %s (%.1f s)%n", checks.failed().size(), checks.count(),
                String.join("; ", checks.failed()), seconds);
        return false;
    }

    // ---- phase 1 ----

    private void referenceCheck(LogLinear lla, M2Problem problem, double[] dOut) {
        int n = s.referenceLength();
        out.printf("1. Check against the definition: the first %d tokens, o and all gradients, against the%n", n);
        out.printf("   O(T^2) formula of docs/math.md computed here in float64 Java (independent of the library)%n");
        M2Problem p = problem.firstTokens(n);
        double[] d = Arrays.copyOf(dOut, n * s.heads() * s.dim());
        // The CUDA backend has no float64: there the demo's precision alone is checked.
        Set<ComputeDType> precisions = new LinkedHashSet<>(engine.onCuda() ? List.of(s.precision())
                : List.of(ComputeDType.F64, s.precision()));
        try (ProgressBar bar = new ProgressBar("reference check", precisions.size(), out, s.progressBars())) {
            for (ComputeDType precision : precisions) {
                checkPrecision(lla, p, d, precision, bar);
                bar.advance(1);
            }
        }
        out.println();
    }

    /** The library at {@code precision} against the formula: o and every gradient, one check line. */
    private void checkPrecision(LogLinear lla, M2Problem p, double[] d, ComputeDType precision, ProgressBar bar) {
        int n = p.length();
        // Reduced precisions are judged against the formula on the same rounded inputs
        // (docs/numerics.md, "Reduced precisions").
        M2Problem ref = precision == ComputeDType.BF16 ? rounded(p, precision) : p;
        double[] refD = precision == ComputeDType.BF16 ? precision.rounded("do", d) : d;
        double[] oRef = MaterializedM2.forward(ref);
        MaterializedM2.Gradients gRef = MaterializedM2.backward(ref, refD);

        AttentionShape shape = AttentionShape.of(1, n, p.heads(), p.groups(), p.keyDim(), p.valueDim(), p.levels());
        AttentionInputs in = AttentionInputs.of(shape, engine.place(precision.tensor("q", p.q(), shape.queryShape())),
                engine.place(precision.tensor("k", p.k(), shape.queryShape())),
                engine.place(precision.tensor("v", p.v(), shape.valueShape())),
                engine.place(precision.tensor("g", p.g(), shape.gateShape())),
                engine.place(precision.tensor("l", p.l(), shape.levelScaleShape())));
        double[] o = lla.forward(in).toDoubleArray();
        Gradients g = lla.backward(in, engine.place(precision.tensor("do", d, shape.valueShape())));
        String[] names = {"o", "dq", "dk", "dv", "dg", "dl"};
        double[] errors = {Errors.relative(o, oRef), Errors.relative(g.dq().toDoubleArray(), gRef.dq()),
                Errors.relative(g.dk().toDoubleArray(), gRef.dk()), Errors.relative(g.dv().toDoubleArray(), gRef.dv()),
                Errors.relative(g.dg().toDoubleArray(), gRef.dg()), Errors.relative(g.dl().toDoubleArray(), gRef.dl())};
        Tolerances tolerances = Tolerances.of(precision, engine.onCuda(), n);
        // The line reports the result nearest its tolerance (dg has its own on CUDA).
        int worst = 0;
        for (int i = 1; i < errors.length; i++) {
            if (!(errors[i] / tolerances.of(names[i]) <= errors[worst] / tolerances.of(names[worst]))) {
                worst = i;
            }
        }
        checks.check(String.format(Locale.ROOT, "%s: o, dq, dk, dv, dg, dl (worst: %s)", precision.label(),
                names[worst]), errors[worst], tolerances.of(names[worst]), bar);
    }

    private static M2Problem rounded(M2Problem p, ComputeDType precision) {
        return new M2Problem(p.batch(), p.length(), p.heads(), p.groups(), p.keyDim(), p.valueDim(), p.levels(),
                p.scale(), precision.rounded("q", p.q()), precision.rounded("k", p.k()), precision.rounded("v", p.v()),
                precision.rounded("g", p.g()), precision.rounded("l", p.l()));
    }

    // ---- phase 2 ----

    /**
     * The forward output and gradients over the whole sequence, which later phases compare with,
     * and the time the two calls took.
     */
    private record Full(double[] o, Gradients gradients, long forwardNanos, long backwardNanos) {
    }

    private Full growing(LogLinear lla, DemoSequence seq) {
        List<Long> lengths = new ArrayList<>();
        for (long t = Math.min(1024, s.length()); t < s.length(); t *= 2) {
            lengths.add(t);
        }
        lengths.add((long) s.length());
        out.printf("2. Forward and backward (chunked, O(T log T)) on growing prefixes of the sequence, one run each%n");
        TextTable table = new TextTable("T", "forward", "backward", "forward per token", "backward per token")
                .minWidth(9);
        double totalWork = lengths.stream().mapToDouble(Demo::work).sum();
        Full full = null;
        // One untimed call first, so the first row does not pay for starting the thread pool.
        lla.backward(seq.tokens(0, lengths.get(0)), seq.upstreamGradient(0, lengths.get(0)));
        try (ProgressBar bar = new ProgressBar("forward + backward", 1000, out, s.progressBars())) {
            double done = 0;
            for (long t : lengths) {
                AttentionInputs in = seq.tokens(0, t);
                long t0 = System.nanoTime();
                Tensor o = lla.forward(in);
                finish(lla);
                long forward = System.nanoTime() - t0;
                bar.set(Math.round(1000 * (done + work(t) / 3) / totalWork));
                t0 = System.nanoTime();
                Gradients g = lla.backward(in, seq.upstreamGradient(0, t));
                finish(lla);
                long backward = System.nanoTime() - t0;
                done += work(t);
                bar.set(Math.round(1000 * done / totalWork));
                table.row(String.format(Locale.ROOT, "%,d", t), Units.nanos(forward), Units.nanos(backward),
                        Units.nanos((double) forward / t), Units.nanos((double) backward / t));
                bar.print(table.rowCount() == 1 ? table.render("   ") : table.renderLastRow("   "));
                if (t == s.length()) {
                    full = new Full(o.toDoubleArray(), g, forward, backward);
                } else {
                    g.close();   // CUDA memory: freed now rather than by the garbage collector
                }
                o.close();
            }
        }
        out.println();
        return full;
    }

    /** Relative cost of forward + backward at length t, for progress: T log T. */
    private static double work(long t) {
        return t * Math.max(1, Math.log(t) / Math.log(2));
    }

    // ---- phase 3 ----

    private void decode(LogLinear lla, DemoSequence seq, Full full) {
        int length = s.length();
        out.printf("3. Decode the same %,d tokens one at a time (a DecodeState, one step per token) and compare%n",
                length);
        out.printf("   with the chunked forward. State memory per sequence and layer, float32; the log-linear state%n");
        out.printf("   holds one K x V matrix per nonempty level (popcount of the tokens seen, at most log2 T)%n");
        long stateLevels = AttentionShape.levelsForPosition(length);
        long[] stepNanos = new long[length];
        Tensor outputs = seq.outputs();
        long[] finalPosition;
        try (DecodeState state = lla.newDecodeState(1, s.heads(), stateLevels, s.dim(), s.dim(),
                s.precision().stateDType(), seq.device());
             ProgressBar bar = new ProgressBar("decode", length, out, s.progressBars())) {
            for (int t = 0; t < length; t++) {
                AttentionInputs token = seq.token(t);
                Tensor o = seq.stepOutput(outputs, t);
                long t0 = System.nanoTime();
                state.stepInto(token, o);
                finish(lla);
                stepNanos[t] = System.nanoTime() - t0;
                bar.set(t + 1);
            }
            finalPosition = state.positions();
        }
        StateMemory memory = new StateMemory(s.heads(), s.dim(), s.dim());
        TextTable table = new TextTable("tokens seen", "nonempty levels", "decode step (median)", "log-linear state",
                "linear attention", "softmax KV cache");
        int lowest = Math.max(4, 31 - Integer.numberOfLeadingZeros(length) - 6);
        for (int k = lowest; (1L << k) - 1 <= length; k++) {
            long n = (1L << k) - 1;
            table.row(String.format(Locale.ROOT, "%,d", n), StateMemory.nonemptyLevels(n),
                    Units.nanos(median(stepNanos, (int) (n / 2), (int) n)), Units.bytes(memory.logLinearBytes(n)),
                    Units.bytes(memory.linearBytes()), Units.bytes(memory.softmaxKvCacheBytes(n)));
        }
        for (long n : new long[] {(1L << 20) - 1, (1L << 30) - 1}) {
            if (n > length) {
                table.row(String.format(Locale.ROOT, "%,d *", n), StateMemory.nonemptyLevels(n), "-",
                        Units.bytes(memory.logLinearBytes(n)), Units.bytes(memory.linearBytes()),
                        Units.bytes(memory.softmaxKvCacheBytes(n)));
            }
        }
        out.print(table.render("   "));
        out.printf("   * not run: the memory that many tokens would need%n");
        out.printf("   (The DecodeState of this run allocates all %d levels up front, %s, enough for %,d tokens.)%n",
                stateLevels, Units.bytes(stateLevels * memory.linearBytes()), (1L << (stateLevels - 1)) - 1);
        double[] decoded = outputs.toDoubleArray();
        outputs.close();
        checks.check(String.format(Locale.ROOT, "decode vs chunked forward: o of all %,d tokens", length),
                Errors.relative(decoded, full.o()), s.precision().tolerance());
        checks.check("position after decoding (expected " + length + ")", Math.abs(finalPosition[0] - length), 0);
        out.println();
    }

    private static double median(long[] values, int from, int to) {
        long[] part = Arrays.copyOfRange(values, from, Math.max(from + 1, to));
        Arrays.sort(part);
        return part[part.length / 2];
    }

    // ---- phase 4 ----

    private void continuation(LogLinear lla, DemoSequence seq, Full full) {
        int length = s.length();
        // An odd split, not aligned to any chunk size.
        int n = Math.max(1, Math.min(length - 1, length * 5 / 8 + 37));
        int decodeSteps = Math.min(512, length - n);
        out.printf("4. Continuation: split at token %,d, export the state, and continue from it%n", n);
        int perToken = s.heads() * s.dim();

        // units of work: 3 chunked calls, the prefill, the decode steps, the reference forward
        try (ProgressBar bar = new ProgressBar("continuation", 5L + decodeSteps, out, s.progressBars())) {
            ForwardResult prefix = lla.forward(seq.tokens(0, n), null, true);
            State state = prefix.finalState().orElseThrow();
            AttentionInputs rest = seq.tokens(n, length);
            double[] continued = lla.forward(rest, state, false).output().toDoubleArray();
            bar.advance(2);
            checks.check("chunked: o of tokens " + n + ".." + (length - 1) + " vs one call",
                    Errors.relative(continued, Arrays.copyOfRange(full.o(), n * perToken, length * perToken)),
                    s.precision().tolerance(), bar);
            Gradients g = lla.backward(rest, state, seq.upstreamGradient(n, length));
            bar.advance(1);
            Gradients w = full.gradients();
            double worst = Math.max(Math.max(gradientError(g.dq(), w.dq(), n), gradientError(g.dk(), w.dk(), n)),
                    Math.max(gradientError(g.dv(), w.dv(), n),
                            Math.max(gradientError(g.dg(), w.dg(), n), gradientError(g.dl(), w.dl(), n))));
            checks.check("chunked: gradients of tokens " + n + ".." + (length - 1) + " vs one call", worst,
                    s.precision().tolerance(), bar);

            try (DecodeState decoding = lla.newDecodeState(1, s.heads(), AttentionShape.levelsForPosition(length),
                    s.dim(), s.dim(), s.precision().stateDType(), seq.device());
                 Tensor outputs = seq.outputs()) {
                decoding.prefill(seq.tokens(0, n));
                bar.advance(1);
                for (int t = n; t < n + decodeSteps; t++) {
                    decoding.stepInto(seq.token(t), seq.stepOutput(outputs, t));
                    bar.advance(1);
                }
                double[] decoded = Arrays.copyOfRange(outputs.toDoubleArray(), n * perToken,
                        (n + decodeSteps) * perToken);
                checks.check("prefill " + n + " + decode " + decodeSteps + " steps: o vs one call",
                        Errors.relative(decoded, Arrays.copyOfRange(full.o(), n * perToken, (n + decodeSteps) * perToken)),
                        s.precision().tolerance(), bar);

                State exported = decoding.exportState();
                State reference = lla.forward(seq.tokens(0, n + decodeSteps), null, true).finalState().orElseThrow();
                bar.advance(1);
                long levels = Math.min(exported.stateLevels(), reference.stateLevels());
                checks.check("exported decode state vs forward's final state at " + (n + decodeSteps),
                        Errors.relative(exported.levels().slice(2, 0, levels).toDoubleArray(),
                                reference.levels().slice(2, 0, levels).toDoubleArray()), s.precision().tolerance(), bar);
            }
        }
    }

    // ---- phase 5 ----

    /** The segments' gradients, written in place into full-length tensors, against one call's. */
    private void segments(LogLinear lla, DemoSequence seq, Full full) {
        int length = s.length();
        long[] bounds = segmentBounds(length, Math.min(4, length));
        int count = bounds.length - 1;
        out.println();
        out.printf("5. Gradients through the state: the %,d tokens in %d segments, starting at %s;%n", length,
                count, startsOf(bounds));
        out.printf("   forward in order keeping each segment's initial state, backward in reverse, each segment%n");
        out.printf("   handing its dInitialState to the one before it as dFinalState (a long sequence trained in pieces)%n");
        Gradients w = full.gradients();
        Device device = seq.device();
        Gradients all = Gradients.of(zeros(w.dq(), device), zeros(w.dk(), device), zeros(w.dv(), device),
                zeros(w.dg(), device), zeros(w.dl(), device));
        try (ProgressBar bar = new ProgressBar("segments", 2L * count, out, s.progressBars())) {
            // states.get(i): the state segment i starts from (null: the fresh start of segment 0).
            List<State> states = new ArrayList<>();
            states.add(null);
            long t0 = System.nanoTime();
            for (int i = 0; i < count - 1; i++) {
                AttentionInputs segment = seq.tokens(bounds[i], bounds[i + 1]);
                states.add(lla.forward(segment, states.get(i), true).finalState().orElseThrow());
                bar.advance(1);
            }
            // The last segment exports no state; its forward runs (and is timed) as training would run it.
            lla.forward(seq.tokens(bounds[count - 1], length), states.get(count - 1), false);
            finish(lla);
            bar.advance(1);
            long forward = System.nanoTime() - t0;

            t0 = System.nanoTime();
            Tensor dState = null;  // dLoss/d of the state after segment i: none after the last
            for (int i = count - 1; i >= 0; i--) {
                long from = bounds[i], to = bounds[i + 1];
                Gradients rows = Gradients.of(all.dq().slice(1, from, to), all.dk().slice(1, from, to),
                        all.dv().slice(1, from, to), all.dg().slice(1, from, to), all.dl().slice(1, from, to));
                State initial = states.get(i);
                Tensor dInitial = null;
                if (initial != null) {
                    dInitial = Tensor.allocate(device, initial.dtype(), initial.levels().shape());
                    rows = rows.withDInitialState(dInitial);
                }
                lla.backwardInto(seq.tokens(from, to), initial, seq.upstreamGradient(from, to), dState, rows);
                dState = dInitial;
                bar.advance(1);
            }
            finish(lla);
            long backward = System.nanoTime() - t0;
            TextTable table = new TextTable("", "forward", "backward").minWidth(9)
                    .row("one call (phase 2)", Units.nanos(full.forwardNanos()), Units.nanos(full.backwardNanos()))
                    .row(count + " segments", Units.nanos(forward), Units.nanos(backward));
            bar.print(table.render("   "));

            String[] names = {"dq", "dk", "dv", "dl"};
            Tensor[] got = {all.dq(), all.dk(), all.dv(), all.dl()};
            Tensor[] want = {w.dq(), w.dk(), w.dv(), w.dl()};
            int worst = 0;
            double[] errors = new double[names.length];
            for (int i = 0; i < names.length; i++) {
                errors[i] = Errors.relative(got[i].toDoubleArray(), want[i].toDoubleArray());
                if (!(errors[i] <= errors[worst])) {
                    worst = i;
                }
            }
            checks.check(String.format(Locale.ROOT, "segments: dq, dk, dv, dl of all %,d tokens (worst: %s)",
                    length, names[worst]), errors[worst], s.precision().tolerance(), bar);
            checks.check(String.format(Locale.ROOT, "segments: dg of all %,d tokens", length),
                    Errors.relative(all.dg().toDoubleArray(), w.dg().toDoubleArray()),
                    engine.onCuda() ? Math.max(decayGradientTolerance(s.precision(), length),
                            Tolerances.of(s.precision(), true, length).dg())
                            : decayGradientTolerance(s.precision(), length), bar);
        }
        if (s.precision() == ComputeDType.F32) {
            out.printf("   (dg_r sums dLoss/dG over every token from r on, so its float32 rounding grows with T: two%n");
            out.printf("   float32 results of it are compared at 1e-5 x sqrt(T / 1024), the float32 tolerance of%n");
            out.printf("   docs/math.md being set at the golden cases' 1,024 tokens at most)%n");
        }
    }

    /**
     * The tolerance on dg of two computations of a long sequence: that of the dtype, and for
     * float32 that scaled by {@code sqrt(T / 1024)}. dg_r sums dLoss/dG over every token from r on,
     * so its float32 rounding grows with T: the one-call float32 dg of the demo sequence is about
     * 7e-6 from float64 on the same inputs at 16K tokens and 1.5e-5 at 64K (more than 1e-5 itself),
     * and the segmented one about half that; the float32 tolerance 1e-5 of docs/math.md is set at
     * the golden lengths (up to 1,024 tokens). The other gradients sum over no such range and stay at the dtype's tolerance.
     */
    static double decayGradientTolerance(ComputeDType precision, long length) {
        double tolerance = precision.tolerance();
        return precision == ComputeDType.F32 ? tolerance * Math.max(1, Math.sqrt(length / 1024.0)) : tolerance;
    }

    /**
     * {@code count + 1} increasing token offsets from 0 to {@code length}: near-equal segments,
     * each boundary moved off the chunk grid by an odd amount (while there is room).
     */
    static long[] segmentBounds(int length, int count) {
        long[] bounds = new long[count + 1];
        bounds[count] = length;
        for (int i = 1; i < count; i++) {
            long at = (long) length * i / count + 11L * i;
            bounds[i] = Math.max(bounds[i - 1] + 1, Math.min(at, length - (count - i)));
        }
        return bounds;
    }

    private static String startsOf(long[] bounds) {
        List<String> starts = new ArrayList<>();
        for (int i = 0; i < bounds.length - 1; i++) {
            starts.add(String.format(Locale.ROOT, "%,d", bounds[i]));
        }
        return String.join(", ", starts);
    }

    /** A zero-filled tensor of {@code like}'s dtype and shape in memory of {@code device}. */
    private static Tensor zeros(Tensor like, Device device) {
        return Tensor.allocate(device, like.dtype(), like.shape());
    }

    /** Waits for the work queued on the GPU, so that a time covers it (CUDA calls are asynchronous). */
    private void finish(LogLinear lla) {
        if (engine.onCuda()) {
            lla.synchronize();
        }
    }

    /** Relative error of a suffix gradient against tokens n.. of the whole-sequence gradient. */
    private static double gradientError(Tensor suffix, Tensor whole, long n) {
        long[] shape = whole.shape();
        return Errors.relative(suffix.toDoubleArray(), whole.slice(1, n, shape[1]).toDoubleArray());
    }
}
