package dev.loglinear;

import java.util.Objects;
import java.util.Optional;

/**
 * Gradients of a scalar loss with respect to the inputs of a call, each of its input's shape
 * and dtype: {@code dq}, {@code dk} (summed over the heads of each group), {@code dv}, {@code dg}
 * (with respect to the per-token {@code g}, not its cumulative sum), {@code dl} (zero for levels
 * beyond those a token uses), for Gated DeltaNet {@code dbeta} and, for a call that continued from
 * an initial state, {@code dInitialState}: the gradient with respect to that state's canonical
 * levels {@code [N, H, Ls, K, V]}, which is what the previous segment of a sequence trained in
 * segments takes as its {@code dFinalState}
 * ({@link LogLinear#backward(AttentionInputs, State, Tensor, Tensor)}).
 *
 * <p>{@link LogLinear#backward(AttentionInputs, Tensor)} returns one; build one with
 * {@link #of} (and {@link #withDInitialState}) to have {@link LogLinear#backwardInto} write into
 * memory of your own.
 */
public final class Gradients implements AutoCloseable {
    private final Tensor dq;
    private final Tensor dk;
    private final Tensor dv;
    private final Tensor dg;
    private final Tensor dl;
    private final Tensor dbeta;
    private final Tensor dInitialState;

    private Gradients(Tensor dq, Tensor dk, Tensor dv, Tensor dg, Tensor dl, Tensor dbeta, Tensor dInitialState) {
        this.dq = dq;
        this.dk = dk;
        this.dv = dv;
        this.dg = dg;
        this.dl = dl;
        this.dbeta = dbeta;
        this.dInitialState = dInitialState;
    }

    /** Destinations for the gradients of Mamba-2 inputs. */
    public static Gradients of(Tensor dq, Tensor dk, Tensor dv, Tensor dg, Tensor dl) {
        return new Gradients(Objects.requireNonNull(dq, "dq"), Objects.requireNonNull(dk, "dk"),
                Objects.requireNonNull(dv, "dv"), Objects.requireNonNull(dg, "dg"), Objects.requireNonNull(dl, "dl"),
                null, null);
    }

    /** These destinations with {@code dbeta [B, T, H]} for Gated DeltaNet. */
    public Gradients withDbeta(Tensor dbeta) {
        return new Gradients(dq, dk, dv, dg, dl, Objects.requireNonNull(dbeta, "dbeta"), dInitialState);
    }

    /**
     * These destinations with {@code dInitialState [N, H, Ls, K, V]}: the call also writes
     * dLoss/d of the canonical levels of its initial state there. It must have the initial
     * state's {@code Ls} and dtype (float32, or float64 for float64 calls), and the call must
     * continue from an initial state (fresh sequences start from a constant zero state, which
     * has no gradient). A flat tensor takes the initial state's shape.
     */
    public Gradients withDInitialState(Tensor dInitialState) {
        return new Gradients(dq, dk, dv, dg, dl, dbeta, Objects.requireNonNull(dInitialState, "dInitialState"));
    }

    /** dLoss/dq {@code [B, T, G, K]}. */
    public Tensor dq() {
        return dq;
    }

    /** dLoss/dk {@code [B, T, G, K]}. */
    public Tensor dk() {
        return dk;
    }

    /** dLoss/dv {@code [B, T, H, V]}. */
    public Tensor dv() {
        return dv;
    }

    /** dLoss/dg {@code [B, T, H]}. */
    public Tensor dg() {
        return dg;
    }

    /** dLoss/dl {@code [B, T, H, L]}. */
    public Tensor dl() {
        return dl;
    }

    /** dLoss/dbeta {@code [B, T, H]}, present for Gated DeltaNet. */
    public Optional<Tensor> dbeta() {
        return Optional.ofNullable(dbeta);
    }

    /**
     * dLoss/d of the canonical levels of the initial state {@code [N, H, Ls, K, V]} (level 0 and
     * the levels empty at the state's position get zero): present when the backward continued
     * from an initial state and was asked for it. Hand it to the backward of the previous segment
     * as its {@code dFinalState}.
     */
    public Optional<Tensor> dInitialState() {
        return Optional.ofNullable(dInitialState);
    }

    /**
     * These gradients, flat ones given the shapes of their inputs' roles ({@code dInitialState}
     * that of {@code initialState}'s levels, when there is one).
     */
    Gradients shapedFor(AttentionShape shape, State initialState) {
        Tensor dState = dInitialState;
        if (dState != null && initialState != null) {
            dState = AttentionInputs.shaped("d_initial_state", dState, initialState.levels().shape());
        }
        return new Gradients(
                AttentionInputs.shaped("dq", dq, shape.queryShape()),
                AttentionInputs.shaped("dk", dk, shape.queryShape()),
                AttentionInputs.shaped("dv", dv, shape.valueShape()),
                AttentionInputs.shaped("dg", dg, shape.gateShape()),
                AttentionInputs.shaped("dl", dl, shape.levelScaleShape()),
                dbeta == null ? null : AttentionInputs.shaped("dbeta", dbeta, shape.gateShape()),
                dState);
    }

    /**
     * Closes every gradient tensor ({@link Tensor#close()}): frees the CUDA memory of those that
     * own it, as {@link LogLinear#backward} allocates them for CUDA inputs; nothing for others.
     */
    @Override
    public void close() {
        for (Tensor t : new Tensor[] {dq, dk, dv, dg, dl, dbeta, dInitialState}) {
            if (t != null) {
                t.close();
            }
        }
    }
}
