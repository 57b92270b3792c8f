package dev.loglinear.cli.bench;

import dev.loglinear.AttentionInputs;
import dev.loglinear.AttentionShape;
import dev.loglinear.DType;
import dev.loglinear.Device;
import dev.loglinear.Gradients;
import dev.loglinear.LogLinear;
import dev.loglinear.Tensor;
import dev.loglinear.cli.compute.ComputeDType;
import dev.loglinear.cli.reference.Errors;
import dev.loglinear.cli.reference.M2Problem;
import dev.loglinear.cli.reference.SyntheticInputs;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Forward, backward and forward+backward of one {@link Anchor} on one engine, the way the native
 * bench (bench/cuda_bench.cu) measures them: bf16 inputs made on the host and copied to the
 * engine's device once (that copy timed on its own), outputs, gradients and one workspace
 * allocated once ({@code forwardInto}, {@code backwardInto}, {@code withWorkspace}), and each time the mean of a group of calls
 * between two synchronizes (so the host's own cost overlaps the device's work as in a training
 * loop), median over groups. Every measurement is checked: the output and the five gradients of
 * a prefix of batch row 0 against the CPU backend in float64 on the same rounded inputs.
 */
public final class AnchorBench {
    /** Tokens of batch row 0 that the check recomputes in float64 on the CPU. */
    static final int CHECK_TOKENS = 1024;
    private static final ComputeDType PRECISION = ComputeDType.BF16;

    private final LogLinear lla;
    private final LogLinear reference;
    private final Device device;
    private final int warmupGroups, groups, callsPerGroup;
    private final long seed;

    /**
     * @param lla the engine timed, on {@code device}
     * @param reference a CPU engine of the same scale computing float64
     * @param callsPerGroup calls between two synchronizes; {@code groups} timed groups after
     *                      {@code warmupGroups} untimed ones
     */
    public AnchorBench(LogLinear lla, LogLinear reference, Device device, int warmupGroups, int groups,
                       int callsPerGroup, long seed) {
        this.lla = lla;
        this.reference = reference;
        this.device = device;
        this.warmupGroups = warmupGroups;
        this.groups = groups;
        this.callsPerGroup = callsPerGroup;
        this.seed = seed;
    }

    /**
     * Median milliseconds of one call of each kind, the copy of the inputs, the device memory of
     * the calls (inputs, d_o, outputs, gradients and the workspace), and the check.
     */
    public record Result(Anchor anchor, double copyInMs, double forwardMs, double backwardMs,
                         double forwardBackwardMs, long memoryBytes, double checkError) {
        public double backwardTflops() {
            return anchor.backwardFlop() / (backwardMs * 1e-3) / 1e12;
        }

        public boolean checkPassed() {
            return checkError <= PRECISION.tolerance();
        }
    }

    public Result run(Anchor a) {
        int h = Anchor.HEADS, kd = Anchor.KEY_DIM, vd = Anchor.VALUE_DIM;
        int levels = (int) AttentionShape.levelsForPosition(a.length());
        M2Problem p = SyntheticInputs.generate(a.batch(), a.length(), h, Anchor.GROUPS, kd, vd, levels,
                lla.config().scale(), seed);
        double[] dOut = SyntheticInputs.upstreamGradient(p, seed);
        AttentionShape shape = AttentionShape.of(a.batch(), a.length(), h, Anchor.GROUPS, kd, vd, levels);
        Tensor[] host = {
            PRECISION.tensor("q", p.q(), shape.queryShape()), PRECISION.tensor("k", p.k(), shape.queryShape()),
            PRECISION.tensor("v", p.v(), shape.valueShape()), PRECISION.tensor("g", p.g(), shape.gateShape()),
            PRECISION.tensor("l", p.l(), shape.levelScaleShape()), PRECISION.tensor("do", dOut, shape.valueShape())};
        List<Tensor> owned = new ArrayList<>();
        try {
            long t0 = System.nanoTime();
            Tensor[] d = new Tensor[host.length];
            for (int i = 0; i < host.length; i++) {
                d[i] = host[i].to(device);
                owned.add(d[i]);
            }
            double copyInMs = (System.nanoTime() - t0) / 1e6;
            AttentionInputs in = AttentionInputs.of(shape, d[0], d[1], d[2], d[3], d[4]);
            Tensor dO = d[5];
            // One workspace for both calls, as a training loop keeps it (and as the native bench).
            long scratch = Math.max(lla.forwardWorkspaceBytes(in, null), lla.backwardWorkspaceBytes(in, null));
            Tensor workspace = own(owned, Tensor.allocate(device, DType.FLOAT32, Math.max(1, (scratch + 3) / 4)));
            LogLinear timed = lla.withWorkspace(workspace);
            Tensor o = own(owned, Tensor.allocate(device, d[2].dtype(), shape.valueShape()));
            Gradients grads = Gradients.of(own(owned, Tensor.allocate(device, d[0].dtype(), shape.queryShape())),
                    own(owned, Tensor.allocate(device, d[1].dtype(), shape.queryShape())),
                    own(owned, Tensor.allocate(device, d[2].dtype(), shape.valueShape())),
                    own(owned, Tensor.allocate(device, d[3].dtype(), shape.gateShape())),
                    own(owned, Tensor.allocate(device, d[4].dtype(), shape.levelScaleShape())));

            double forward = perCallMs(timed, () -> timed.forwardInto(in, null, o, null));
            double backward = perCallMs(timed, () -> timed.backwardInto(in, null, dO, grads));
            double both = perCallMs(timed, () -> {
                timed.forwardInto(in, null, o, null);
                timed.backwardInto(in, null, dO, grads);
            });
            double err = check(timed, p, dOut, in, o, grads);
            long memory = scratch;
            for (Tensor t : owned) {
                memory += t == workspace ? 0 : t.numel() * t.dtype().byteSize();
            }
            return new Result(a, copyInMs, forward, backward, both, memory, err);
        } finally {
            owned.forEach(Tensor::close);
        }
    }

    private static Tensor own(List<Tensor> owned, Tensor t) {
        owned.add(t);
        return t;
    }

    /** Median over groups of the mean time of one call, each group closed by a synchronize. */
    private double perCallMs(LogLinear lla, Runnable call) {
        for (int i = 0; i < warmupGroups * callsPerGroup; i++) {
            call.run();
        }
        lla.synchronize();
        double[] ms = new double[groups];
        for (int r = 0; r < groups; r++) {
            long t0 = System.nanoTime();
            for (int i = 0; i < callsPerGroup; i++) {
                call.run();
            }
            lla.synchronize();
            ms[r] = (System.nanoTime() - t0) / 1e6 / callsPerGroup;
        }
        Arrays.sort(ms);
        return ms[groups / 2];
    }

    /**
     * The largest relative error (docs/numerics.md) of o from the timed forward and of the five
     * gradients of a backward whose upstream gradient is zero past the prefix of row 0 (so that
     * they are the prefix problem's gradients), against the CPU backend in float64.
     */
    private double check(LogLinear lla, M2Problem p, double[] dOut, AttentionInputs in, Tensor o, Gradients grads) {
        int n = Math.min(CHECK_TOKENS, p.length());
        M2Problem prefix = p.firstTokensOfRow(0, n);
        AttentionShape ps = AttentionShape.of(1, n, p.heads(), p.groups(), p.keyDim(), p.valueDim(), p.levels());
        AttentionInputs ref = AttentionInputs.of(ps,
                Tensor.of(PRECISION.rounded("q", prefix.q()), ps.queryShape()),
                Tensor.of(PRECISION.rounded("k", prefix.k()), ps.queryShape()),
                Tensor.of(PRECISION.rounded("v", prefix.v()), ps.valueShape()),
                Tensor.of(PRECISION.rounded("g", prefix.g()), ps.gateShape()),
                Tensor.of(PRECISION.rounded("l", prefix.l()), ps.levelScaleShape()));
        int perToken = p.heads() * p.valueDim();
        double[] dOPrefix = PRECISION.rounded("do", p.rowPrefix(dOut, 0, perToken, n));
        double[] oRef = reference.forward(ref).toDoubleArray();
        Gradients gRef = reference.backward(ref, Tensor.of(dOPrefix, ps.valueShape()));

        double err = Errors.relative(rowPrefix(o, n), oRef);
        double[] masked = new double[dOut.length];
        System.arraycopy(dOut, 0, masked, 0, n * perToken);
        try (Tensor dOMasked = PRECISION.tensor("do", masked, in.v().shape()).to(device)) {
            lla.backwardInto(in, null, dOMasked, grads);
        }
        Tensor[] got = {grads.dq(), grads.dk(), grads.dv(), grads.dg(), grads.dl()};
        Tensor[] want = {gRef.dq(), gRef.dk(), gRef.dv(), gRef.dg(), gRef.dl()};
        for (int i = 0; i < got.length; i++) {
            err = Math.max(err, Errors.relative(rowPrefix(got[i], n), want[i].toDoubleArray()));
        }
        return err;
    }

    /** Tokens [0, n) of batch row 0, read to the host in float64. */
    private static double[] rowPrefix(Tensor t, int n) {
        return t.slice(0, 0, 1).slice(1, 0, n).toDoubleArray();
    }
}
