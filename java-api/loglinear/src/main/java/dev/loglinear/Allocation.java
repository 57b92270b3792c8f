package dev.loglinear;

/** Outputs allocated by the library: in memory of the same kind as a template input. */
final class Allocation {
    private Allocation() {
    }

    /**
     * A zero-filled tensor of {@code template}'s dtype for an output: a Java array when
     * {@code template} is one, a direct buffer when it is native host memory, CUDA memory of its
     * device (owned by the new tensor) when it is CUDA memory.
     */
    static Tensor like(Tensor template, long[] shape) {
        if (template.isHeap()) {
            return Tensor.zeros(template.dtype(), shape);
        }
        return Tensor.allocate(template.device(), template.dtype(), shape);
    }

    /** A zero-filled state, in Java arrays, direct buffers or CUDA memory like {@code template}. */
    static State state(Tensor template, long[] stateShape, DType dtype) {
        if (template.isHeap()) {
            return State.zeros(stateShape[0], stateShape[1], stateShape[2], stateShape[3], stateShape[4], dtype);
        }
        return State.allocate(template.device(), stateShape[0], stateShape[1], stateShape[2], stateShape[3],
                stateShape[4], dtype);
    }
}
