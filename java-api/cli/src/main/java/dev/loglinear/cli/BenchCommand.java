package dev.loglinear.cli;

import dev.loglinear.AttentionInputs;
import dev.loglinear.AttentionShape;
import dev.loglinear.Device;
import dev.loglinear.DecodeState;
import dev.loglinear.LogLinear;
import dev.loglinear.Tensor;
import dev.loglinear.Variant;
import dev.loglinear.cli.bench.Anchor;
import dev.loglinear.cli.bench.AnchorBench;
import dev.loglinear.cli.bench.AnchorChart;
import dev.loglinear.cli.bench.TimingChart;
import dev.loglinear.cli.compute.ComputeDType;
import dev.loglinear.cli.reference.M2Problem;
import dev.loglinear.cli.reference.SyntheticInputs;
import dev.loglinear.cli.text.TextTable;
import dev.loglinear.cli.text.Units;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.function.LongSupplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code lla bench}: forward, backward and decode-step timings of the Mamba-2 variant for given
 * shapes, as a table and optionally a chart. Inputs live in native memory (direct buffers), so
 * the times are those of the library, not of copying Java arrays. With {@code --backend cuda} it
 * measures the anchor shapes instead ({@link AnchorBench}), optionally the CPU beside them.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, versionProvider = Lla.Version.class,
        description = "Time forward, backward and a decode step (median of --repeats runs) for each length T, "
                + "print a table, and with --plot draw time against T as a PNG chart. With --backend cuda: forward, "
                + "backward and both at the anchor shapes of docs/benchmarks.md (bf16, H=32, K=128, V=64), the "
                + "native bench's table, every result checked against the float64 CPU backend.")
public final class BenchCommand implements Callable<Integer> {

    @Option(names = {"-B", "--batch"}, defaultValue = "1", description = "Batch size B (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = {"-T", "--lengths"}, split = ",", defaultValue = "1024,2048,4096,8192,16384", paramLabel = "T,...",
            description = "Sequence lengths, comma-separated (default: ${DEFAULT-VALUE}).")
    List<Integer> lengths;

    @Option(names = {"-H", "--heads"}, defaultValue = "4", description = "Heads H (default: ${DEFAULT-VALUE}).")
    int heads;

    @Option(names = {"-G", "--groups"}, defaultValue = "1", description = "Query/key groups G (default: ${DEFAULT-VALUE}).")
    int groups;

    @Option(names = {"-K", "--key-dim"}, defaultValue = "64", description = "Key size K (default: ${DEFAULT-VALUE}).")
    int keyDim;

    @Option(names = {"-V", "--value-dim"}, defaultValue = "64", description = "Value size V (default: ${DEFAULT-VALUE}).")
    int valueDim;

    @Option(names = "--dtype", defaultValue = "f32", paramLabel = "f32|f64|bf16",
            description = "Input precision (default: ${DEFAULT-VALUE}).")
    String dtype;

    @Option(names = "--repeats", defaultValue = "3", description = "Timed runs per measurement; the median is "
            + "reported (default: ${DEFAULT-VALUE}).")
    int repeats;

    @Option(names = "--warmup", defaultValue = "1", description = "Untimed runs before timing (default: ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--decode-steps", defaultValue = "64",
            description = "Decode steps timed after a prefill of T tokens and 8 x --warmup untimed steps "
                    + "(default: ${DEFAULT-VALUE}).")
    int decodeSteps;

    @Option(names = "--plot", paramLabel = "FILE.png", description = "Also draw time against T into this PNG file.")
    Path plot;

    @Option(names = "--seed", defaultValue = "1", description = "Random seed of the inputs (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--calls-per-timing", defaultValue = "10", paramLabel = "N",
            description = "--backend cuda: calls between two device synchronizes; each of --repeats timings is "
                    + "their mean (default: ${DEFAULT-VALUE}).")
    int callsPerTiming;

    @Option(names = "--with-cpu", description = "--backend cuda: also time the CPU backend at the anchor shapes "
            + "(slow: seconds per call); --plot then draws both.")
    boolean withCpu;

    @Mixin
    EngineOptions engine;

    @Override
    public Integer call() throws Exception {
        if (repeats < 1 || warmup < 0 || decodeSteps < 1) {
            throw new IllegalArgumentException("--repeats and --decode-steps must be >= 1 and --warmup >= 0, got "
                    + repeats + ", " + decodeSteps + ", " + warmup);
        }
        if (lengths.stream().anyMatch(t -> t < 1)) {
            throw new IllegalArgumentException("--lengths: expected values >= 1, got " + lengths);
        }
        if (withCpu && !engine.onCuda()) {
            throw new IllegalArgumentException("--with-cpu compares the CPU with --backend cuda; add --backend cuda");
        }
        if (engine.onCuda()) {
            return anchors();
        }
        ComputeDType precision = ComputeDType.parse(dtype);
        LogLinear lla = engine.create(Variant.MAMBA2, 1.0 / Math.sqrt(keyDim));
        String setup = String.format(Locale.ROOT, "B=%d H=%d G=%d K=%d V=%d %s, %s, median of %d", batch, heads, groups,
                keyDim, valueDim, precision.label(), engine.describe(), repeats);
        System.out.printf("lla bench: log-linear Mamba-2, libloglinear %s%n   %s%n", LogLinear.version(), setup);

        TextTable table = new TextTable("T", "forward", "backward", "fwd+bwd", "decode step", "forward tokens/s")
                .minWidth(9);
        TimingChart chart = new TimingChart("loglinear: log-linear Mamba-2 on "
                + engine.backend().name().toUpperCase(Locale.ROOT), setup);
        // One untimed pass at the smallest length: the JIT compiles the call paths and the
        // library starts its threads before anything is timed.
        measure(lla, precision, lengths.stream().mapToInt(Integer::intValue).min().orElseThrow());
        for (int t : lengths) {
            Measured m = measure(lla, precision, t);
            double forwardSeconds = m.forwardNanos / 1e9;
            table.row(String.format(Locale.ROOT, "%,d", t), Units.nanos(m.forwardNanos), Units.nanos(m.backwardNanos),
                    Units.nanos(m.forwardNanos + m.backwardNanos), Units.nanos(m.decodeStepNanos),
                    String.format(Locale.ROOT, "%,.0f", batch * t / forwardSeconds));
            System.out.print(table.rowCount() == 1 ? table.render("   ") : table.renderLastRow("   "));
            chart.add("forward", t, m.forwardNanos / 1e6);
            chart.add("backward", t, m.backwardNanos / 1e6);
            chart.add("forward + backward", t, (m.forwardNanos + m.backwardNanos) / 1e6);
            chart.add("decode step (at position T)", t, m.decodeStepNanos / 1e6);
        }
        if (plot != null) {
            chart.writePng(plot, 960, 600);
            System.out.println("   chart: " + plot);
        }
        return 0;
    }

    /**
     * {@code --backend cuda}: the anchor shapes of docs/benchmarks.md, the table of the native
     * bench (bench/cuda_bench.cu), with the copy of the inputs to the device reported apart.
     */
    private int anchors() throws java.io.IOException {
        if (callsPerTiming < 1) {
            throw new IllegalArgumentException("--calls-per-timing must be >= 1, got " + callsPerTiming);
        }
        double scale = 1.0 / Math.sqrt(Anchor.KEY_DIM);
        LogLinear gpu = engine.create(Variant.MAMBA2, scale);
        LogLinear reference = engine.cpu(Variant.MAMBA2, scale);
        String setup = String.format(Locale.ROOT, "bf16 inputs and gradients (dg float32), H=%d G=%d K=%d V=%d; "
                        + "median of %d timings, each the mean of %d calls between synchronizes, after %d untimed",
                Anchor.HEADS, Anchor.GROUPS, Anchor.KEY_DIM, Anchor.VALUE_DIM, repeats, callsPerTiming,
                warmup * callsPerTiming);
        System.out.printf("lla bench: log-linear Mamba-2 at the anchor shapes of docs/benchmarks.md, libloglinear %s"
                + "%n   %s%n", LogLinear.version(), setup);
        AnchorChart chart = new AnchorChart("loglinear: log-linear Mamba-2, forward and forward+backward", setup);
        run("on " + engine.describe(), new AnchorBench(gpu, reference, engine.device(), warmup, repeats,
                callsPerTiming, seed), chart, engine.describe());
        if (withCpu) {
            LogLinear cpu = engine.cpu(Variant.MAMBA2, scale);
            String name = "cpu, " + (engine.threads() == 0 ? Runtime.getRuntime().availableProcessors()
                    : engine.threads()) + " threads";
            run("on " + name, new AnchorBench(cpu, reference, Device.CPU, Math.min(warmup, 1), repeats, 1, seed),
                    chart, "cpu");
        }
        if (plot != null) {
            chart.writePng(plot, 960, 600);
            System.out.println("   chart: " + plot);
        }
        return 0;
    }

    private void run(String title, AnchorBench bench, AnchorChart chart, String engineName) {
        System.out.println("   " + title + ":");
        TextTable table = new TextTable("B x T", "forward ms", "backward ms", "fwd+bwd ms", "target ms",
                "vs FLA fwd+bwd", "vs SDPA fwd+bwd", "backward TFLOP/s", "memory GB (FLA)", "inputs copied in ms",
                "check (rel. err)");
        boolean failed = false;
        for (Anchor a : Anchor.ALL) {
            AnchorBench.Result r = bench.run(a);
            table.row(a.label(), ms(r.forwardMs()), ms(r.backwardMs()), ms(r.forwardBackwardMs()), ms(a.targetMs()),
                    String.format(Locale.ROOT, "%.2fx", a.flaForwardBackwardMs() / r.forwardBackwardMs()),
                    String.format(Locale.ROOT, "%.2fx", a.sdpaForwardBackwardMs() / r.forwardBackwardMs()),
                    String.format(Locale.ROOT, "%.1f", r.backwardTflops()),
                    String.format(Locale.ROOT, "%.2f (%.2f)", r.memoryBytes() / 1e9, a.flaPeakGb()), ms(r.copyInMs()),
                    String.format(Locale.ROOT, "%.2e %s", r.checkError(), r.checkPassed() ? "ok" : "FAILED"));
            System.out.print(table.rowCount() == 1 ? table.render("   ") : table.renderLastRow("   "));
            chart.add(engineName, r);
            failed |= !r.checkPassed();
        }
        if (failed) {
            throw new IllegalStateException("a result differs from the float64 CPU reference by more than the bf16 "
                    + "tolerance (docs/numerics.md)");
        }
    }

    private static String ms(double v) {
        return String.format(Locale.ROOT, v < 10 ? "%.3f" : "%.2f", v);
    }

    private record Measured(double forwardNanos, double backwardNanos, double decodeStepNanos) {
    }

    private Measured measure(LogLinear lla, ComputeDType precision, int length) {
        long levels = AttentionShape.levelsForPosition(length + 8L * warmup + decodeSteps);
        M2Problem p = SyntheticInputs.generate(batch, length, heads, groups, keyDim, valueDim, (int) levels,
                lla.config().scale(), seed);
        AttentionShape shape = AttentionShape.of(batch, length, heads, groups, keyDim, valueDim, levels);
        AttentionInputs in = AttentionInputs.of(shape, direct(precision, "q", p.q(), shape.queryShape()),
                direct(precision, "k", p.k(), shape.queryShape()), direct(precision, "v", p.v(), shape.valueShape()),
                direct(precision, "g", p.g(), shape.gateShape()), direct(precision, "l", p.l(), shape.levelScaleShape()));
        Tensor dOut = direct(precision, "do", SyntheticInputs.upstreamGradient(p, seed), shape.valueShape());
        Tensor o = Tensor.allocateDirect(in.v().dtype(), shape.valueShape());

        double forward = median(() -> {
            long t0 = System.nanoTime();
            lla.forwardInto(in, null, o, null);
            return System.nanoTime() - t0;
        });
        double backward = median(() -> {
            long t0 = System.nanoTime();
            lla.backward(in, dOut);
            return System.nanoTime() - t0;
        });
        return new Measured(forward, backward, decodeStep(lla, precision, in, levels));
    }

    /**
     * Median time of one decode step just after position T: a prefill of the T tokens, then
     * {@code 8 * warmup} untimed steps (the JIT and the caches warm up), then the timed steps.
     */
    private double decodeStep(LogLinear lla, ComputeDType precision, AttentionInputs prompt, long levels) {
        int untimed = 8 * warmup, steps = untimed + decodeSteps;
        M2Problem tokens = SyntheticInputs.generate(batch, steps, heads, groups, keyDim, valueDim, (int) levels,
                lla.config().scale(), seed + 1);
        AttentionShape shape = AttentionShape.of(batch, steps, heads, groups, keyDim, valueDim, levels);
        Tensor q = direct(precision, "q", tokens.q(), shape.queryShape());
        Tensor k = direct(precision, "k", tokens.k(), shape.queryShape());
        Tensor v = direct(precision, "v", tokens.v(), shape.valueShape());
        Tensor g = direct(precision, "g", tokens.g(), shape.gateShape());
        Tensor l = direct(precision, "l", tokens.l(), shape.levelScaleShape());
        AttentionShape one = AttentionShape.token(batch, heads, groups, keyDim, valueDim, levels);
        Tensor o = Tensor.allocateDirect(v.dtype(), batch, heads, valueDim);
        long[] times = new long[decodeSteps];
        try (DecodeState state = lla.newDecodeState(batch, heads, levels, keyDim, valueDim, precision.stateDType())) {
            state.prefill(prompt);
            for (int i = 0; i < steps; i++) {
                AttentionInputs token = AttentionInputs.of(one, q.slice(1, i, i + 1), k.slice(1, i, i + 1),
                        v.slice(1, i, i + 1), g.slice(1, i, i + 1), l.slice(1, i, i + 1));
                long t0 = System.nanoTime();
                state.stepInto(token, o);
                if (i >= untimed) {
                    times[i - untimed] = System.nanoTime() - t0;
                }
            }
        }
        Arrays.sort(times);
        return times[times.length / 2];
    }

    private double median(LongSupplier run) {
        for (int i = 0; i < warmup; i++) {
            run.getAsLong();
        }
        long[] times = new long[repeats];
        for (int i = 0; i < repeats; i++) {
            times[i] = run.getAsLong();
        }
        Arrays.sort(times);
        return times[repeats / 2];
    }

    private static Tensor direct(ComputeDType precision, String name, double[] values, long[] shape) {
        return precision.tensor(name, values, shape).toDirect();
    }
}
