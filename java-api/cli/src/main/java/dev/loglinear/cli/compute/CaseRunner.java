package dev.loglinear.cli.compute;

import dev.loglinear.AttentionInputs;
import dev.loglinear.AttentionShape;
import dev.loglinear.Device;
import dev.loglinear.Gradients;
import dev.loglinear.LogLinear;
import dev.loglinear.State;
import dev.loglinear.Tensor;
import dev.loglinear.cli.io.GoldenCase;
import dev.loglinear.cli.io.NpyArray;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Runs a golden case through the Java API, as {@code llacheck} runs it through the C API:
 * forward and backward over the whole case, or the same in two calls chained through the state
 * ({@code --split-at}), and, for a case with {@code state_position n}, the same tokens split at
 * {@code n}: a forward over the first {@code n} exporting the state, then forward and backward
 * over the rest continuing from it.
 */
public final class CaseRunner {
    private final LogLinear lla;
    private final ComputeDType dtype;
    private final Device device;

    /** Runs with inputs in Java arrays (host memory). */
    public CaseRunner(LogLinear lla, ComputeDType dtype) {
        this(lla, dtype, Device.CPU);
    }

    /**
     * Runs with the inputs copied to {@code device} once (for the CUDA backend); results are read
     * back from wherever the calls wrote them.
     */
    public CaseRunner(LogLinear lla, ComputeDType dtype, Device device) {
        this.lla = lla;
        this.dtype = dtype;
        this.device = device;
    }

    /** The inputs of a case as tensors of this precision, with the upstream gradient {@code do}. */
    private record Loaded(AttentionInputs inputs, Tensor dOut) {
    }

    private Loaded load(GoldenCase c, Map<String, double[]> override) throws IOException {
        long[] q = c.shape("q"), v = c.shape("v"), l = c.shape("l");
        AttentionShape shape = AttentionShape.of(q[0], q[1], v[2], q[2], q[3], v[3], l[3]);
        if (c.cuSeqlens() != null) {
            shape = shape.withCuSeqlens(c.cuSeqlens());
        }
        AttentionInputs in = AttentionInputs.of(shape,
                tensor(c, "q", shape.queryShape(), override), tensor(c, "k", shape.queryShape(), override),
                tensor(c, "v", shape.valueShape(), override), tensor(c, "g", shape.gateShape(), override),
                tensor(c, "l", shape.levelScaleShape(), override));
        if (c.isGatedDeltaNet()) {
            in = in.withBeta(tensor(c, "beta", shape.gateShape(), override));
        }
        return new Loaded(in, tensor(c, "do", shape.valueShape(), override));
    }

    private Tensor tensor(GoldenCase c, String name, long[] shape, Map<String, double[]> override) throws IOException {
        double[] values = override.containsKey(name) ? override.get(name) : c.read(name).data();
        Tensor host = dtype.tensor(name, values, shape);
        return device.isCpu() ? host : host.to(device);
    }

    /** {@code o} and every gradient of one forward and backward over the whole case. */
    public Map<String, NpyArray> forwardBackward(GoldenCase c) throws IOException {
        return forwardBackward(c, Map.of());
    }

    /**
     * Like {@link #forwardBackward(GoldenCase)} with some inputs replaced by {@code override}
     * (name to values in float64), for example inputs rounded to another precision.
     */
    public Map<String, NpyArray> forwardBackward(GoldenCase c, Map<String, double[]> override) throws IOException {
        Loaded in = load(c, override);
        Map<String, NpyArray> out = new LinkedHashMap<>();
        out.put("o", array(lla.forward(in.inputs())));
        putGradients(out, lla.backward(in.inputs(), in.dOut()));
        return out;
    }

    /**
     * The results of {@link #forwardBackward(GoldenCase)} from two calls chained through the state
     * at token {@code n} of every batch row (the backward contract): forward {@code [0, n)}
     * exporting the state, forward {@code [n, T)} from it, backward {@code [n, T)} from it giving
     * {@code dInitialState}, backward {@code [0, n)} with that as {@code dFinalState}. Each call
     * writes its tokens of full-length {@code o} and gradients, so the arrays are those of all
     * {@code T} tokens. At {@code n = 0} or {@code n = T} one segment is empty (the library refuses
     * a call of zero tokens), which leaves the one-call run.
     *
     * @throws IllegalArgumentException for a case with {@code cu_seqlens}, or {@code n} outside 0..T
     */
    public Map<String, NpyArray> forwardBackwardSplit(GoldenCase c, long n) throws IOException {
        long length = checkSplit(c, n);
        if (n == 0 || n == length) {
            return forwardBackward(c);
        }
        Loaded whole = load(c, Map.of());
        AttentionInputs all = whole.inputs();
        AttentionShape shape = all.shape();
        AttentionInputs head = tokens(all, 0, n);
        AttentionInputs tail = tokens(all, n, length);
        long levels = AttentionShape.levelsForPosition(n);
        State state = State.zeros(shape.batch(), shape.heads(), levels, shape.keyDim(), shape.valueDim(),
                dtype.stateDType());
        Tensor dState = Tensor.zeros(dtype.stateDType(), state.levels().shape());

        Tensor o = Tensor.zeros(all.v().dtype(), shape.valueShape());
        lla.forwardInto(head, null, o.slice(1, 0, n), state);
        lla.forwardInto(tail, state, o.slice(1, n, length), null);

        Gradients grads = Gradients.of(Tensor.zeros(all.q().dtype(), shape.queryShape()),
                Tensor.zeros(all.k().dtype(), shape.queryShape()), Tensor.zeros(all.v().dtype(), shape.valueShape()),
                Tensor.zeros(all.g().dtype(), shape.gateShape()), Tensor.zeros(all.l().dtype(), shape.levelScaleShape()));
        if (all.beta().isPresent()) {
            grads = grads.withDbeta(Tensor.zeros(all.beta().get().dtype(), shape.gateShape()));
        }
        lla.backwardInto(tail, state, whole.dOut().slice(1, n, length), null,
                tokens(grads, n, length).withDInitialState(dState));
        lla.backwardInto(head, null, whole.dOut().slice(1, 0, n), dState, tokens(grads, 0, n));

        Map<String, NpyArray> out = new LinkedHashMap<>();
        out.put("o", array(o));
        putGradients(out, grads);
        return out;
    }

    /** {@code T} of the case, once {@code n} is a split {@link #forwardBackwardSplit} can make. */
    public static long checkSplit(GoldenCase c, long n) {
        if (c.cuSeqlens() != null) {
            throw new IllegalArgumentException("--split-at: case " + c.dir().getFileName() + " packs sequences "
                    + "(cu_seqlens), so token N of the batch row is not one position of one sequence; split "
                    + "each sequence on its own instead (a case of batch rows without cu_seqlens)");
        }
        long length = c.shape("q")[1];
        if (n < 0 || n > length) {
            throw new IllegalArgumentException("--split-at: expected a token in 0.." + length + " (T = " + length
                    + " of case " + c.dir().getFileName() + "), got " + n);
        }
        return length;
    }

    /**
     * The case split at {@code state_position n}: {@code o} over all tokens (first {@code n} by
     * the exporting forward, the rest continued from the state), the gradients of tokens
     * {@code n..T-1} from a backward continuing from the state, and the exported state
     * {@code [B, H, bit_length(n) + 1, K, V]}.
     */
    public Map<String, NpyArray> splitAtStatePosition(GoldenCase c) throws IOException {
        Long position = c.statePosition();
        if (position == null) {
            throw new IllegalArgumentException("case " + c.dir() + " has no state_position");
        }
        if (c.cuSeqlens() != null) {
            throw new IllegalArgumentException("case " + c.dir() + ": state_position with cu_seqlens is not supported");
        }
        Loaded whole = load(c, Map.of());
        AttentionShape shape = whole.inputs().shape();
        long n = position, length = shape.length();
        if (n < 1 || n >= length) {
            throw new IllegalArgumentException("case " + c.dir() + ": state_position must be in 1.." + (length - 1)
                    + ", got " + n);
        }
        AttentionInputs prefix = tokens(whole.inputs(), 0, n);
        AttentionInputs suffix = tokens(whole.inputs(), n, length);

        State state = State.zeros(shape.batch(), shape.heads(), AttentionShape.levelsForPosition(n), shape.keyDim(),
                shape.valueDim(), dtype.stateDType());
        Tensor o = Tensor.zeros(whole.inputs().v().dtype(), shape.valueShape());
        lla.forwardInto(prefix, null, o.slice(1, 0, n), state);
        for (long p : state.positionArray()) {
            if (p != n) {
                throw new IllegalStateException("the exported state's position is " + p + ", expected " + n);
            }
        }
        lla.forwardInto(suffix, state, o.slice(1, n, length), null);

        Map<String, NpyArray> out = new LinkedHashMap<>();
        out.put("o", array(o));
        putGradients(out, lla.backward(suffix, state, whole.dOut().slice(1, n, length)));
        out.put("state", array(state.levels()));
        return out;
    }

    /** Tokens [start, end) of every input, as views (no copies). */
    private static AttentionInputs tokens(AttentionInputs in, long start, long end) {
        AttentionShape s = in.shape();
        AttentionShape part = AttentionShape.of(s.batch(), end - start, s.heads(), s.groups(), s.keyDim(),
                s.valueDim(), s.levels());
        AttentionInputs sliced = AttentionInputs.of(part, in.q().slice(1, start, end), in.k().slice(1, start, end),
                in.v().slice(1, start, end), in.g().slice(1, start, end), in.l().slice(1, start, end));
        if (in.beta().isPresent()) {
            sliced = sliced.withBeta(in.beta().get().slice(1, start, end));
        }
        return sliced;
    }

    /** Tokens [start, end) of every gradient destination, as views. */
    private static Gradients tokens(Gradients g, long start, long end) {
        Gradients sliced = Gradients.of(g.dq().slice(1, start, end), g.dk().slice(1, start, end),
                g.dv().slice(1, start, end), g.dg().slice(1, start, end), g.dl().slice(1, start, end));
        if (g.dbeta().isPresent()) {
            sliced = sliced.withDbeta(g.dbeta().get().slice(1, start, end));
        }
        return sliced;
    }

    private static void putGradients(Map<String, NpyArray> out, Gradients g) {
        out.put("dq", array(g.dq()));
        out.put("dk", array(g.dk()));
        out.put("dv", array(g.dv()));
        out.put("dg", array(g.dg()));
        out.put("dl", array(g.dl()));
        g.dbeta().ifPresent(t -> out.put("dbeta", array(t)));
    }

    private static NpyArray array(Tensor t) {
        return new NpyArray(t.shape(), t.toDoubleArray());
    }
}
