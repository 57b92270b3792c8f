package dev.loglinear.cli.demo;

import dev.loglinear.AttentionInputs;
import dev.loglinear.AttentionShape;
import dev.loglinear.DType;
import dev.loglinear.Tensor;
import dev.loglinear.cli.compute.ComputeDType;
import dev.loglinear.cli.reference.M2Problem;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * One long synthetic sequence (batch 1) held in native memory at the demo's precision, so that
 * every call, down to a single decode step, uses it in place without copies. Any token range is
 * a view: {@link #tokens(long, long)} for chunked calls, {@link #token(long)} for a decode step.
 */
final class DemoSequence {
    private final M2Problem problem;
    private final AttentionShape shape;
    private final Tensor q, k, v, g, l, dOut;

    DemoSequence(M2Problem problem, double[] dOut, ComputeDType precision) {
        if (problem.batch() != 1) {
            throw new IllegalArgumentException("the demo sequence has batch 1, got " + problem.batch());
        }
        this.problem = problem;
        this.shape = AttentionShape.of(1, problem.length(), problem.heads(), problem.groups(), problem.keyDim(),
                problem.valueDim(), problem.levels());
        this.q = precision.tensor("q", problem.q(), shape.queryShape()).toDirect();
        this.k = precision.tensor("k", problem.k(), shape.queryShape()).toDirect();
        this.v = precision.tensor("v", problem.v(), shape.valueShape()).toDirect();
        this.g = precision.tensor("g", problem.g(), shape.gateShape()).toDirect();
        this.l = precision.tensor("l", problem.l(), shape.levelScaleShape()).toDirect();
        this.dOut = precision.tensor("do", dOut, shape.valueShape()).toDirect();
    }

    M2Problem problem() {
        return problem;
    }

    long length() {
        return shape.length();
    }

    AttentionShape shape() {
        return shape;
    }

    DType outputDType() {
        return v.dtype();
    }

    /** Tokens [start, end) as the inputs of one call (views, no copies). */
    AttentionInputs tokens(long start, long end) {
        AttentionShape part = AttentionShape.of(1, end - start, shape.heads(), shape.groups(), shape.keyDim(),
                shape.valueDim(), shape.levels());
        return AttentionInputs.of(part, q.slice(1, start, end), k.slice(1, start, end), v.slice(1, start, end),
                g.slice(1, start, end), l.slice(1, start, end));
    }

    /** Token t as the input of a decode step for one sequence. */
    AttentionInputs token(long t) {
        AttentionShape one = AttentionShape.token(1, shape.heads(), shape.groups(), shape.keyDim(), shape.valueDim(),
                shape.levels());
        return AttentionInputs.of(one, q.slice(1, t, t + 1), k.slice(1, t, t + 1), v.slice(1, t, t + 1),
                g.slice(1, t, t + 1), l.slice(1, t, t + 1));
    }

    /** dLoss/do of tokens [start, end). */
    Tensor upstreamGradient(long start, long end) {
        return dOut.slice(1, start, end);
    }

    /** A zeroed buffer for the outputs of all tokens, one decode step at a time ({@link #stepOutput}). */
    ByteBuffer outputBuffer() {
        long bytes = shape.length() * shape.heads() * shape.valueDim() * v.dtype().byteSize();
        return ByteBuffer.allocateDirect(Math.toIntExact(bytes)).order(ByteOrder.nativeOrder());
    }

    /** The {@code [1, H, V]} slot of token t in a buffer from {@link #outputBuffer()}. */
    Tensor stepOutput(ByteBuffer all, long t) {
        int perToken = Math.toIntExact(shape.heads() * shape.valueDim());
        ByteBuffer at = all.duplicate().order(ByteOrder.nativeOrder());
        at.position(Math.toIntExact(t * perToken * v.dtype().byteSize()));
        return Tensor.of(at, v.dtype(), 1, shape.heads(), shape.valueDim());
    }

    /** All outputs of a buffer from {@link #outputBuffer()}, as {@code [1, T, H, V]}. */
    Tensor allOutputs(ByteBuffer all) {
        return Tensor.of(all.duplicate().order(ByteOrder.nativeOrder()), v.dtype(), shape.valueShape());
    }
}
