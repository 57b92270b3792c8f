package dev.loglinear;

import java.util.Objects;
import java.util.Optional;

/**
 * Gradients of a scalar loss with respect to the inputs of a call, each of its input's shape
 * and dtype: {@code dq}, {@code dk} (summed over the heads of each group), {@code dv}, {@code dg}
 * (with respect to the per-token {@code g}, not its cumulative sum), {@code dl} (zero for levels
 * beyond those a token uses) and, for Gated DeltaNet, {@code dbeta}.
 *
 * <p>{@link LogLinear#backward(AttentionInputs, Tensor)} returns one; build one with
 * {@link #of} to have {@link LogLinear#backwardInto} write into memory of your own.
 */
public final class Gradients {
    private final Tensor dq;
    private final Tensor dk;
    private final Tensor dv;
    private final Tensor dg;
    private final Tensor dl;
    private final Tensor dbeta;

    private Gradients(Tensor dq, Tensor dk, Tensor dv, Tensor dg, Tensor dl, Tensor dbeta) {
        this.dq = dq;
        this.dk = dk;
        this.dv = dv;
        this.dg = dg;
        this.dl = dl;
        this.dbeta = dbeta;
    }

    /** Destinations for the gradients of Mamba-2 inputs. */
    public static Gradients of(Tensor dq, Tensor dk, Tensor dv, Tensor dg, Tensor dl) {
        return new Gradients(Objects.requireNonNull(dq, "dq"), Objects.requireNonNull(dk, "dk"),
                Objects.requireNonNull(dv, "dv"), Objects.requireNonNull(dg, "dg"), Objects.requireNonNull(dl, "dl"),
                null);
    }

    /** These destinations with {@code dbeta [B, T, H]} for Gated DeltaNet. */
    public Gradients withDbeta(Tensor dbeta) {
        return new Gradients(dq, dk, dv, dg, dl, Objects.requireNonNull(dbeta, "dbeta"));
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

    /** These gradients, flat ones given the shapes of their inputs' roles. */
    Gradients shapedFor(AttentionShape shape) {
        return new Gradients(
                AttentionInputs.shaped("dq", dq, shape.queryShape()),
                AttentionInputs.shaped("dk", dk, shape.queryShape()),
                AttentionInputs.shaped("dv", dv, shape.valueShape()),
                AttentionInputs.shaped("dg", dg, shape.gateShape()),
                AttentionInputs.shaped("dl", dl, shape.levelScaleShape()),
                dbeta == null ? null : AttentionInputs.shaped("dbeta", dbeta, shape.gateShape()));
    }
}
