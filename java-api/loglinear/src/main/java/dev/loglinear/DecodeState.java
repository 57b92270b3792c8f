package dev.loglinear;

import java.util.Arrays;

import static dev.loglinear.presets.global.loglinear.lla_decode_step;
import static dev.loglinear.presets.global.loglinear.lla_forward;
import static dev.loglinear.presets.global.loglinear.lla_state_convert;

/**
 * The state of a batch of {@code N} sequences being generated token by token: a prefill
 * consumes a prompt, each {@link #step} consumes one token per sequence and returns its output.
 *
 * <pre>{@code
 * LogLinear lla = LogLinear.create();
 * try (DecodeState state = lla.newDecodeState(n, heads, 21, keyDim, valueDim, DType.FLOAT32)) {
 *     state.prefill(prompt);                       // AttentionInputs of the prompts, B = n
 *     for (int i = 0; i < steps; i++) {
 *         Tensor o = state.step(token);            // AttentionInputs with T = 1
 *         ...
 *     }
 *     State saved = state.exportState();           // canonical layout
 * }
 * }</pre>
 *
 * <p>Inside, the state is kept in the decode form of docs/state-layout.md (each level with its
 * own log decay), so that a step rewrites only the level it merges into; {@link #exportState()}
 * and {@link #importState(State)} convert exactly to and from the canonical layout. The levels
 * held ({@code Ls}) bound the positions reachable: {@code Ls = 21} covers a million tokens
 * ({@link AttentionShape#levelsForPosition(long)}); a call that would go further is rejected
 * before any work is done.
 *
 * <p>Thread safety: the calls that read or write the state ({@code prefill}, {@code step},
 * {@code exportState}, {@code importState}, {@code reset}, {@code positions}, {@code close}) hold
 * this object's lock, so calls from several threads run one at a time and none loses an update
 * (their order is the order in which the threads get the lock). {@link #close()} waits for a call
 * in flight; a call after it throws {@link IllegalStateException}. The native memory is freed by
 * {@link #close()} (or, failing that, when the object is garbage collected).
 */
public final class DecodeState implements AutoCloseable {
    private final LogLinear lla;
    private final Tensor levels;
    private final Tensor logDecay;
    private final Tensor positions;
    private final Tensor[] owned;
    private boolean closed;

    private DecodeState(LogLinear lla, Tensor levels, Tensor logDecay, Tensor positions, Tensor[] owned) {
        this.lla = lla;
        this.levels = levels;
        this.logDecay = logDecay;
        this.positions = positions;
        this.owned = owned;
    }

    static DecodeState allocate(LogLinear lla, long numSequences, long heads, long stateLevels, long keyDim,
                                long valueDim, DType dtype, Device device) {
        State.requireStateDType(dtype);
        long[] levelShape = {numSequences, heads, stateLevels, keyDim, valueDim};
        long[] decayShape = {numSequences, heads, stateLevels};
        for (long s : levelShape) {
            if (s < 1) {
                throw new InvalidArgumentException("decode state shape: expected sizes >= 1, got [N, H, Ls, K, V] = "
                        + Arrays.toString(levelShape));
            }
        }
        Tensor[] owned = new Tensor[3];
        try {
            owned[0] = Tensor.allocate(device, dtype, levelShape);
            owned[1] = Tensor.allocate(device, dtype, decayShape);
            owned[2] = Tensor.allocate(device, DType.INT64, numSequences);
        } catch (RuntimeException e) {
            closeAll(owned);
            throw e;
        }
        return new DecodeState(lla, owned[0], owned[1], owned[2], owned);
    }

    static DecodeState wrap(LogLinear lla, Tensor levels, Tensor logDecay, Tensor positions) {
        return new DecodeState(lla, levels, logDecay, positions, null);
    }

    /**
     * Runs a forward over {@code prompt} (one batch row or packed sequence per state sequence),
     * continuing from this state, and advances it past the prompt. Returns the prompt's output,
     * allocated like {@code v}.
     */
    public Tensor prefill(AttentionInputs prompt) {
        Tensor o = Allocation.like(prompt.v(), prompt.shape().valueShape());
        prefillInto(prompt, o);
        return o;
    }

    /** Like {@link #prefill(AttentionInputs)}, writing the output into {@code o [B, T, H, V]}. */
    public synchronized void prefillInto(AttentionInputs prompt, Tensor o) {
        requireOpen();
        Tensor out = AttentionInputs.shaped("o", o, prompt.shape().valueShape());
        DType dtype = levels.dtype();
        try (NativeCall call = call()) {
            // forward exports the canonical form; convert it into this state's decode form.
            Tensor canonical = call.temporary(dtype, levels.shape());
            Tensor canonicalPositions = call.temporary(DType.INT64, positions.shape());
            var config = call.config(lla.config());
            var exported = call.state(canonical, null, canonicalPositions, true);
            call.check(lla_forward(config, call.inputs(prompt, false), call.state(levels, logDecay, positions, false),
                    call.tensor(out, true), exported, null, 0, NativeCall.stream(lla.stream())));
            call.check(lla_state_convert(config, exported, call.state(levels, logDecay, positions, true),
                    NativeCall.stream(lla.stream())));
        }
    }

    /**
     * Consumes one token per sequence: {@code token} has {@code T = 1} and {@code B = N}
     * ({@link AttentionShape#token}). Returns the output {@code [N, H, V]}, allocated like
     * {@code v}.
     */
    public Tensor step(AttentionInputs token) {
        AttentionShape s = token.shape();
        Tensor o = Allocation.like(token.v(), new long[] {s.batch(), s.heads(), s.valueDim()});
        stepInto(token, o);
        return o;
    }

    /** Like {@link #step(AttentionInputs)}, writing the output into {@code o [N, H, V]}. */
    public synchronized void stepInto(AttentionInputs token, Tensor o) {
        requireOpen();
        AttentionShape s = token.shape();
        if (s.length() != 1 || s.isPacked()) {
            throw new InvalidArgumentException("token: expected one token per sequence (T = 1, no cu_seqlens), got "
                    + s);
        }
        Tensor out = AttentionInputs.shaped("o", o, new long[] {s.batch(), s.heads(), s.valueDim()});
        try (NativeCall call = call()) {
            call.check(lla_decode_step(call.config(lla.config()), call.inputs(token, true),
                    call.state(levels, logDecay, positions, true), call.tensor(out, true),
                    NativeCall.stream(lla.stream())));
        }
    }

    /** The state in the canonical layout, in new Java arrays (from a state in any memory). */
    public State exportState() {
        State dst = State.zeros(numSequences(), heads(), stateLevels(), keyDim(), valueDim(), levels.dtype());
        exportState(dst);
        return dst;
    }

    /** Writes the state in the canonical layout into {@code dst} (same sizes and dtype). */
    public synchronized void exportState(State dst) {
        requireOpen();
        try (NativeCall call = call()) {
            call.check(lla_state_convert(call.config(lla.config()), call.state(levels, logDecay, positions, false),
                    call.state(dst, true), NativeCall.stream(lla.stream())));
        }
    }

    /**
     * Replaces this state with {@code src}, a canonical state of the same sizes and dtype, for
     * example one exported by a forward call, another backend, or an earlier session.
     */
    public synchronized void importState(State src) {
        requireOpen();
        try (NativeCall call = call()) {
            call.check(lla_state_convert(call.config(lla.config()), call.state(src, false),
                    call.state(levels, logDecay, positions, true), NativeCall.stream(lla.stream())));
        }
    }

    /** Back to fresh sequences: every level zero, every position 0. States from newDecodeState only. */
    public synchronized void reset() {
        requireOpen();
        if (owned == null) {
            throw new InvalidArgumentException("reset: expected a state allocated by newDecodeState, got one wrapping"
                    + " memory of your own; zero that memory instead");
        }
        for (Tensor t : owned) {
            t.fillZero();
        }
    }

    /** The position of every sequence: the number of tokens it has consumed. */
    public synchronized long[] positions() {
        requireOpen();
        return positions.toLongArray();
    }

    /** {@code N}. */
    public long numSequences() {
        return levels.shape()[0];
    }

    /** {@code H}. */
    public long heads() {
        return levels.shape()[1];
    }

    /** {@code Ls}, the levels held. */
    public long stateLevels() {
        return levels.shape()[2];
    }

    /** {@code K}. */
    public long keyDim() {
        return levels.shape()[3];
    }

    /** {@code V}. */
    public long valueDim() {
        return levels.shape()[4];
    }

    /** FLOAT32 or FLOAT64. */
    public DType dtype() {
        return levels.dtype();
    }

    /** Frees the memory (host or CUDA) this state allocated; a wrapped state frees nothing. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (owned != null) {
            closeAll(owned);
        }
    }

    /** Where the state lives: the host or a CUDA device. */
    public Device device() {
        return levels.device();
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("DecodeState is closed");
        }
    }

    /** A native call on the state's device and the stream of its {@link LogLinear}. */
    private NativeCall call() {
        return new NativeCall(levels.isHeap() ? Device.CPU : levels.device(), lla.stream());
    }

    private static void closeAll(Tensor[] tensors) {
        for (Tensor t : tensors) {
            if (t != null) {
                t.close();
            }
        }
    }
}
