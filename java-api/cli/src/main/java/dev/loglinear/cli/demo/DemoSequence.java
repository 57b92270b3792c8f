package dev.loglinear.cli.demo;

import dev.loglinear.AttentionInputs;
import dev.loglinear.AttentionShape;
import dev.loglinear.DType;
import dev.loglinear.Device;
import dev.loglinear.Tensor;
import dev.loglinear.cli.compute.ComputeDType;
import dev.loglinear.cli.reference.M2Problem;

/**
 * One long synthetic sequence (batch 1) held in native memory of the demo's device (the host, or
 * the CUDA device it was copied to once) at the demo's precision, so that every call, down to a
 * single decode step, uses it in place without copies. Any token range is a view:
 * {@link #tokens(long, long)} for chunked calls, {@link #token(long)} for a decode step.
 */
final class DemoSequence {
    private final M2Problem problem;
    private final AttentionShape shape;
    private final Tensor q, k, v, g, l, dOut;
    private final Device device;

    DemoSequence(M2Problem problem, double[] dOut, ComputeDType precision, Device device) {
        if (problem.batch() != 1) {
            throw new IllegalArgumentException("the demo sequence has batch 1, got " + problem.batch());
        }
        this.problem = problem;
        this.shape = AttentionShape.of(1, problem.length(), problem.heads(), problem.groups(), problem.keyDim(),
                problem.valueDim(), problem.levels());
        this.q = place(precision.tensor("q", problem.q(), shape.queryShape()), device);
        this.k = place(precision.tensor("k", problem.k(), shape.queryShape()), device);
        this.v = place(precision.tensor("v", problem.v(), shape.valueShape()), device);
        this.g = place(precision.tensor("g", problem.g(), shape.gateShape()), device);
        this.l = place(precision.tensor("l", problem.l(), shape.levelScaleShape()), device);
        this.dOut = place(precision.tensor("do", dOut, shape.valueShape()), device);
        this.device = device;
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

    /** Zeroed memory of the sequence's device for the outputs of all tokens, one decode step at a time. */
    Tensor outputs() {
        return Tensor.allocate(device, v.dtype(), shape.valueShape());
    }

    /** The {@code [1, H, V]} slot of token t in a tensor from {@link #outputs()}. */
    Tensor stepOutput(Tensor all, long t) {
        return all.slice(1, t, t + 1).reshape(1, shape.heads(), shape.valueDim());
    }

    /** Where the sequence lives. */
    Device device() {
        return device;
    }

    /** Native memory of {@code device}: a direct buffer on the host, a copy on a CUDA device. */
    private static Tensor place(Tensor host, Device device) {
        return device.isCpu() ? host.toDirect() : host.to(device);
    }
}
