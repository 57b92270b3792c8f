package dev.loglinear;

/** Outputs allocated by the library: in memory of the same kind as a template input. */
final class Allocation {
    private Allocation() {
    }

    /**
     * A zero-filled tensor of {@code template}'s dtype for output {@code role}: a Java array when
     * {@code template} is one, a direct buffer when it is native host memory. Device memory cannot be allocated from Java.
     */
    static Tensor like(String role, Tensor template, long[] shape) {
        if (template.isHeap()) {
            return Tensor.zeros(template.dtype(), shape);
        }
        requireHost(role, template);
        return Tensor.allocateDirect(template.dtype(), shape);
    }

    /** A zero-filled state, in Java arrays or direct buffers like {@code template}. */
    static State state(Tensor template, long[] stateShape, DType dtype) {
        if (template.isHeap()) {
            return State.zeros(stateShape[0], stateShape[1], stateShape[2], stateShape[3], stateShape[4], dtype);
        }
        requireHost("final state", template);
        return State.allocateDirect(stateShape[0], stateShape[1], stateShape[2], stateShape[3], stateShape[4], dtype);
    }

    private static void requireHost(String role, Tensor template) {
        if (!template.device().isCpu()) {
            throw new InvalidArgumentException(role + ": expected inputs in host memory for an allocated result, got "
                    + template.device() + " memory; allocate it on the device and use the ...Into method");
        }
    }
}
