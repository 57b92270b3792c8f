package dev.loglinear;

import java.util.Objects;

/**
 * The recurrent state of {@code N} sequences in the canonical layout (docs/state-layout.md):
 * {@code levels [N, H, Ls, K, V]} (float32, or float64 for float64 calls) and the position
 * {@code n} of each sequence ({@code [N]} int64), the number of tokens it has consumed. Level 0
 * is always zero and {@code Ls >= bit_length(n) + 1} for every sequence
 * ({@link AttentionShape#levelsForPosition(long)}).
 *
 * <p>This is the form to save, send, or move between backends; a forward call exports it
 * ({@link LogLinear#forward(AttentionInputs, State, boolean)}) and takes it as its initial state,
 * and a {@link DecodeState} imports and exports it. Immutable as an object; the memory it views
 * is written by the calls it is passed to as an output.
 */
public final class State implements AutoCloseable {
    private final Tensor levels;
    private final Tensor positions;

    private State(Tensor levels, Tensor positions) {
        this.levels = levels;
        this.positions = positions;
    }

    /** A state over existing tensors: {@code levels [N, H, Ls, K, V]}, {@code positions [N]} int64. */
    public static State of(Tensor levels, Tensor positions) {
        Objects.requireNonNull(levels, "levels");
        Objects.requireNonNull(positions, "positions");
        return new State(levels, positions);
    }

    /** A state over existing level data, with the positions copied from {@code positions}. */
    public static State of(Tensor levels, long... positions) {
        return of(levels, Tensor.of(positions.clone(), positions.length));
    }

    /**
     * A fresh state (all zeros, every position 0) in Java arrays: the state of sequences that have
     * not seen a token yet, or a destination for {@link DecodeState#exportState(State)}.
     */
    public static State zeros(long numSequences, long heads, long stateLevels, long keyDim, long valueDim,
                              DType dtype) {
        requireStateDType(dtype);
        return new State(Tensor.zeros(dtype, numSequences, heads, stateLevels, keyDim, valueDim),
                Tensor.zeros(DType.INT64, numSequences));
    }

    /** Like {@link #zeros}, in direct buffers (native memory, used in place by every call). */
    public static State allocateDirect(long numSequences, long heads, long stateLevels, long keyDim, long valueDim,
                                       DType dtype) {
        requireStateDType(dtype);
        return new State(Tensor.allocateDirect(dtype, numSequences, heads, stateLevels, keyDim, valueDim),
                Tensor.allocateDirect(DType.INT64, numSequences));
    }

    /**
     * Like {@link #zeros}, in memory of {@code device}: direct buffers on the host, CUDA memory the
     * state owns on a GPU (close it to free that memory).
     */
    public static State allocate(Device device, long numSequences, long heads, long stateLevels, long keyDim,
                                 long valueDim, DType dtype) {
        requireStateDType(dtype);
        Tensor levels = Tensor.allocate(device, dtype, numSequences, heads, stateLevels, keyDim, valueDim);
        try {
            return new State(levels, Tensor.allocate(device, DType.INT64, numSequences));
        } catch (RuntimeException e) {
            levels.close();
            throw e;
        }
    }

    /** A copy of this state in memory of {@code device} (close it to free CUDA memory). */
    public State to(Device device) {
        Tensor l = levels.to(device);
        try {
            return new State(l, positions.to(device));
        } catch (RuntimeException e) {
            l.close();
            throw e;
        }
    }

    /** Frees the CUDA memory of levels and positions when this state owns it; otherwise nothing. */
    @Override
    public void close() {
        levels.close();
        positions.close();
    }

    /** Where the levels live. */
    public Device device() {
        return levels.device();
    }

    /** The level matrices {@code [N, H, Ls, K, V]}. */
    public Tensor levels() {
        return levels;
    }

    /** The positions {@code [N]} int64. */
    public Tensor positions() {
        return positions;
    }

    /** The position of every sequence (read from any memory). */
    public long[] positionArray() {
        return positions.toLongArray();
    }

    /** {@code N}, the number of sequences. */
    public long numSequences() {
        return dim(0);
    }

    /** {@code H}. */
    public long heads() {
        return dim(1);
    }

    /** {@code Ls}, the number of levels held. */
    public long stateLevels() {
        return dim(2);
    }

    /** {@code K}. */
    public long keyDim() {
        return dim(3);
    }

    /** {@code V}. */
    public long valueDim() {
        return dim(4);
    }

    /** The dtype of the levels. */
    public DType dtype() {
        return levels.dtype();
    }

    private long dim(int axis) {
        if (levels.rank() != 5) {
            throw new InvalidArgumentException("state levels: expected 5 dimensions [N, H, Ls, K, V], got "
                    + java.util.Arrays.toString(levels.shape()));
        }
        return levels.shape()[axis];
    }

    @Override
    public String toString() {
        return "State[levels=" + levels + ", positions=" + positions + "]";
    }

    static void requireStateDType(DType dtype) {
        if (dtype != DType.FLOAT32 && dtype != DType.FLOAT64) {
            throw new InvalidArgumentException("state dtype: expected FLOAT32 or FLOAT64, got " + dtype);
        }
    }
}
