package dev.loglinear;

import java.util.Arrays;
import java.util.Objects;
import java.util.Optional;

/**
 * The inputs of one call: {@code q, k, v, g, l} (and {@code beta} for Gated DeltaNet) with the
 * {@link AttentionShape} they follow. Immutable.
 *
 * <p>A flat tensor (made without a shape, e.g. {@code Tensor.of(floatArray)}) takes the shape of
 * its role and must hold exactly that many elements; a tensor with a shape of its own is passed
 * as it is, and the native library checks it against the others.
 *
 * <pre>{@code
 * AttentionShape shape = AttentionShape.of(1, 1024, 4, 1, 64, 64);   // B, T, H, G, K, V
 * AttentionInputs in = AttentionInputs.of(shape, q, k, v, g, l);     // float[] each
 * }</pre>
 */
public final class AttentionInputs {
    private final AttentionShape shape;
    private final Tensor q;
    private final Tensor k;
    private final Tensor v;
    private final Tensor g;
    private final Tensor l;
    private final Tensor beta;

    private AttentionInputs(AttentionShape shape, Tensor q, Tensor k, Tensor v, Tensor g, Tensor l, Tensor beta) {
        this.shape = shape;
        this.q = q;
        this.k = k;
        this.v = v;
        this.g = g;
        this.l = l;
        this.beta = beta;
    }

    /** Inputs from tensors of any memory kind. */
    public static AttentionInputs of(AttentionShape shape, Tensor q, Tensor k, Tensor v, Tensor g, Tensor l) {
        Objects.requireNonNull(shape, "shape");
        return new AttentionInputs(shape,
                shaped("q", q, shape.queryShape()),
                shaped("k", k, shape.queryShape()),
                shaped("v", v, shape.valueShape()),
                shaped("g", g, shape.gateShape()),
                shaped("l", l, shape.levelScaleShape()),
                null);
    }

    /** float32 inputs from Java arrays in row-major order (copied per call). */
    public static AttentionInputs of(AttentionShape shape, float[] q, float[] k, float[] v, float[] g, float[] l) {
        return of(shape, Tensor.of(q), Tensor.of(k), Tensor.of(v), Tensor.of(g), Tensor.of(l));
    }

    /** float64 inputs from Java arrays in row-major order (copied per call). */
    public static AttentionInputs of(AttentionShape shape, double[] q, double[] k, double[] v, double[] g,
                                     double[] l) {
        return of(shape, Tensor.of(q), Tensor.of(k), Tensor.of(v), Tensor.of(g), Tensor.of(l));
    }

    /** These inputs with {@code beta [B, T, H]}, the write strength of Gated DeltaNet. */
    public AttentionInputs withBeta(Tensor beta) {
        return new AttentionInputs(shape, q, k, v, g, l, shaped("beta", beta, shape.gateShape()));
    }

    /** These inputs with float32 {@code beta} from a Java array. */
    public AttentionInputs withBeta(float[] beta) {
        return withBeta(Tensor.of(beta));
    }

    /** These inputs with float64 {@code beta} from a Java array. */
    public AttentionInputs withBeta(double[] beta) {
        return withBeta(Tensor.of(beta));
    }

    /** The sizes these inputs follow. */
    public AttentionShape shape() {
        return shape;
    }

    /** Queries {@code [B, T, G, K]}. */
    public Tensor q() {
        return q;
    }

    /** Keys {@code [B, T, G, K]}. */
    public Tensor k() {
        return k;
    }

    /** Values {@code [B, T, H, V]}. */
    public Tensor v() {
        return v;
    }

    /** Log decays {@code [B, T, H]} (float32 or float64). */
    public Tensor g() {
        return g;
    }

    /** Level scales {@code [B, T, H, L]}. */
    public Tensor l() {
        return l;
    }

    /** Write strengths {@code [B, T, H]}, present for Gated DeltaNet. */
    public Optional<Tensor> beta() {
        return Optional.ofNullable(beta);
    }

    /** The dtype a state of these inputs has: float64 for float64 inputs, else float32. */
    public DType stateDType() {
        return v.dtype() == DType.FLOAT64 ? DType.FLOAT64 : DType.FLOAT32;
    }

    /** The number of tokens of each sequence: {@code T} each, or the differences of cu_seqlens. */
    long[] sequenceLengths() {
        long[] cu = shape.cuSeqlens();
        if (cu == null) {
            long[] lengths = new long[(int) shape.batch()];
            Arrays.fill(lengths, shape.length());
            return lengths;
        }
        long[] lengths = new long[Math.max(0, cu.length - 1)];
        for (int i = 0; i < lengths.length; i++) {
            lengths[i] = cu[i + 1] - cu[i];
        }
        return lengths;
    }

    /** {@code tensor}, given the role's shape when it is flat. */
    static Tensor shaped(String role, Tensor tensor, long[] roleShape) {
        Objects.requireNonNull(tensor, role);
        if (!tensor.isFlat()) {
            return tensor;
        }
        long expected = Tensor.product(roleShape);
        if (tensor.numel() != expected) {
            throw new InvalidArgumentException(role + ": expected " + expected + " elements for shape "
                    + Arrays.toString(roleShape) + ", got " + tensor.numel());
        }
        return tensor.reshape(roleShape);
    }
}
