package dev.loglinear;

import dev.loglinear.presets.lla_config;
import dev.loglinear.presets.lla_inputs;
import dev.loglinear.presets.lla_state;
import dev.loglinear.presets.lla_tensor;
import java.util.Objects;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.SizeTPointer;

import static dev.loglinear.presets.global.loglinear.lla_backend_available;
import static dev.loglinear.presets.global.loglinear.lla_backward;
import static dev.loglinear.presets.global.loglinear.lla_backward_workspace_size;
import static dev.loglinear.presets.global.loglinear.lla_forward;
import static dev.loglinear.presets.global.loglinear.lla_forward_workspace_size;
import static dev.loglinear.presets.global.loglinear.lla_synchronize;
import static dev.loglinear.presets.global.loglinear.lla_version_string;

/**
 * Log-linear attention: forward, backward and decoding, with one {@link LogLinearConfig}.
 *
 * <pre>{@code
 * LogLinear lla = LogLinear.create(LogLinearConfig.defaults());
 * AttentionShape shape = AttentionShape.of(1, 1024, 4, 1, 64, 64);        // B, T, H, G, K, V
 * AttentionInputs in = AttentionInputs.of(shape, q, k, v, g, l);          // float[] each
 * float[] o = lla.forward(in).toFloatArray();
 * Gradients grads = lla.backward(in, Tensor.of(dO));
 * }</pre>
 *
 * <h2>Sequences in segments</h2>
 * A forward can continue from a {@link State} and export the state after its last token
 * ({@link #forward(AttentionInputs, State, boolean)}), so a sequence can be processed in pieces.
 * The backward follows the state the other way: given the gradient of the exported state
 * ({@code dFinalState}), {@link #backward(AttentionInputs, State, Tensor, Tensor)} also returns
 * the gradient of the initial state ({@link Gradients#dInitialState()}), which the previous
 * segment's backward takes as its {@code dFinalState}; together the segments' gradients are
 * those of one call over the whole sequence.
 *
 * <h2>Memory</h2>
 * Inputs and outputs are {@link Tensor}s: Java arrays (copied to the call's device and back for
 * each call), direct NIO buffers and JavaCPP pointers (used in place, no copies), CUDA memory
 * ({@link Tensor#allocate(Device, DType, long...)}, {@link Tensor#to(Device)}) or raw addresses of
 * host or CUDA memory another stack owns. A call runs where its tensors live. Methods that return
 * tensors allocate them like the corresponding input: a Java array for an array, a direct buffer
 * for native host memory, CUDA memory of the same device for CUDA memory (close those, or the
 * {@link Gradients} and {@link State} holding them, to free it at once). The {@code ...Into}
 * methods write into memory of your own instead.
 *
 * <pre>{@code
 * Device gpu = Device.cuda(0);
 * try (Tensor q = Tensor.of(qHost, shape.queryShape()).to(gpu); ...;   // k, v, g, l likewise
 *      Tensor o = lla.forward(AttentionInputs.of(shape, q, k, v, g, l))) {
 *     float[] out = o.toFloatArray();                                    // waits for the GPU
 * }
 * }</pre>
 *
 * <h2>Errors</h2>
 * Every failure is a {@link LogLinearException} whose message names the argument, the expected
 * and the actual value; a failed call writes nothing to its outputs or states.
 *
 * <h2>Thread safety</h2>
 * A {@code LogLinear} is immutable and may be shared by any number of threads: the native library
 * is reentrant, keeps its error messages per thread, and each call allocates its own scratch
 * memory. Calls that write the same output or {@link DecodeState} concurrently must be ordered by
 * the caller. On the CPU backend a call itself uses {@link LogLinearConfig#threads()} worker
 * threads.
 */
public final class LogLinear {
    private final LogLinearConfig config;
    private final long stream;
    /** Scratch memory of every forward and backward, or null: the library allocates per call. */
    private final Tensor workspace;

    private LogLinear(LogLinearConfig config, long stream, Tensor workspace) {
        this.config = config;
        this.stream = stream;
        this.workspace = workspace;
    }

    /** Calls with {@code config}. */
    public static LogLinear create(LogLinearConfig config) {
        return new LogLinear(Objects.requireNonNull(config, "config"), 0, null);
    }

    /** Calls with {@link LogLinearConfig#defaults()}: Mamba-2, scale 1, backend AUTO. */
    public static LogLinear create() {
        return create(LogLinearConfig.defaults());
    }

    /**
     * The same calls queued on a CUDA stream ({@code cudaStream_t} as an address; 0 is the default
     * stream). CUDA calls are asynchronous: {@link #synchronize()} before reading results. Ignored
     * on the CPU.
     */
    public LogLinear withStream(long cudaStream) {
        return new LogLinear(config, cudaStream, workspace);
    }

    /**
     * The same calls with {@code workspace} as the scratch memory of every forward and backward,
     * instead of memory the library allocates and frees in each call: what a training loop does
     * to keep allocation out of its steps (on CUDA, an allocation of the size of a backward's
     * scratch costs about as much as a forward of the anchor shapes). {@code workspace} is dense
     * memory of any dtype ({@link Tensor#allocate(Device, DType, long...)}) on the device the calls
     * run on, of at least {@link #forwardWorkspaceBytes} / {@link #backwardWorkspaceBytes} bytes for
     * the calls made (a smaller one fails the call with {@link OutOfMemoryException}); calls that
     * share it must not overlap (one stream, or ordered by the caller). null: allocate per call.
     */
    public LogLinear withWorkspace(Tensor workspace) {
        if (workspace != null && !workspace.isDenseNative()) {
            throw new InvalidArgumentException("workspace: expected dense native memory (Tensor.allocate), got "
                    + workspace);
        }
        return new LogLinear(config, stream, workspace);
    }

    /** The workspace of every forward and backward, when {@link #withWorkspace} gave one. */
    public java.util.Optional<Tensor> workspace() {
        return java.util.Optional.ofNullable(workspace);
    }

    /** The scratch bytes a forward of {@code in} from {@code initialState} (null: fresh) needs. */
    public long forwardWorkspaceBytes(AttentionInputs in, State initialState) {
        return workspaceBytes(in, initialState, true);
    }

    /**
     * The scratch bytes a backward of {@code in} from {@code initialState} (null: fresh) needs,
     * with or without state gradients.
     */
    public long backwardWorkspaceBytes(AttentionInputs in, State initialState) {
        return workspaceBytes(in, initialState, false);
    }

    private long workspaceBytes(AttentionInputs in, State initialState, boolean forward) {
        Objects.requireNonNull(in, "inputs");
        try (NativeCall call = new NativeCall(NativeCall.deviceOf(in.q(), in.v(), levels(initialState)), stream);
             SizeTPointer bytes = new SizeTPointer(1)) {
            lla_config c = call.config(config);
            lla_inputs inputs = call.inputs(in, false);
            lla_state initial = call.state(initialState, false);
            call.check(forward ? lla_forward_workspace_size(c, inputs, initial, bytes)
                    : lla_backward_workspace_size(c, inputs, initial, bytes));
            return bytes.get();
        }
    }

    /** The workspace's address for a call on {@code device}, or null (none given). */
    private Pointer workspaceFor(Device device) {
        if (workspace == null) {
            return null;
        }
        if (!workspace.device().equals(device)) {
            throw new InvalidArgumentException("workspace is " + workspace.device() + " memory but the call's tensors "
                    + "are on " + device + "; give a workspace on the device the calls run on");
        }
        return new Storage.Address(workspace.nativeAddress("the workspace"));
    }

    /** The bytes of the given workspace (0: none). */
    private long workspaceCapacity() {
        return workspace == null ? 0 : workspace.byteSize();
    }

    /** The configuration of every call. */
    public LogLinearConfig config() {
        return config;
    }

    /** The CUDA stream of every call (0: the default stream). */
    public long stream() {
        return stream;
    }

    /** The version of the native library loaded, e.g. {@code "0.4.0"}. */
    public static String version() {
        return lla_version_string().getString();
    }

    /** Whether this build has {@code backend} and a usable device for it. */
    public static boolean isAvailable(Backend backend) {
        return lla_backend_available(backend.code()) != 0;
    }

    // ---- forward ----

    /** The output {@code o [B, T, H, V]} of fresh sequences (position 0). */
    public Tensor forward(AttentionInputs in) {
        return forward(in, null, false).output();
    }

    /**
     * The output, continuing from {@code initialState} (null: fresh sequences) and, when
     * {@code exportFinalState}, the canonical state ready for each sequence's next token.
     * The exported state has as many levels as {@code l}, or more when the final positions need
     * them; it lives in Java arrays when {@code v} does, in direct buffers when {@code v} is native
     * host memory, and in memory of {@code v}'s CUDA device when {@code v} is there (close the
     * result to free it).
     */
    public ForwardResult forward(AttentionInputs in, State initialState, boolean exportFinalState) {
        Objects.requireNonNull(in, "inputs");
        AttentionShape shape = in.shape();
        Tensor o = Allocation.like(in.v(), shape.valueShape());
        State finalState = null;
        if (exportFinalState) {
            long levels = Math.max(shape.levels(), finalStateLevels(in, initialState));
            finalState = Allocation.state(in.v(), shape.stateShape(levels), in.stateDType());
        }
        ForwardResult result = new ForwardResult(o, finalState);
        try {
            forwardInto(in, initialState, o, finalState);
        } catch (RuntimeException e) {
            result.close();
            throw e;
        }
        return result;
    }

    /**
     * Writes the output into {@code o [B, T, H, V]}, continuing from {@code initialState} (null:
     * fresh sequences) and, when {@code finalState} is not null, exporting the canonical state
     * into it. Any memory kind, including CUDA memory.
     */
    public void forwardInto(AttentionInputs in, State initialState, Tensor o, State finalState) {
        Objects.requireNonNull(in, "inputs");
        Tensor out = AttentionInputs.shaped("o", o, in.shape().valueShape());
        Device device = NativeCall.deviceOf(in.q(), in.v(), out, levels(initialState), levels(finalState));
        Pointer scratch = workspaceFor(device);
        try (NativeCall call = new NativeCall(device, stream)) {
            lla_config c = call.config(config);
            lla_inputs inputs = call.inputs(in, false);
            lla_state initial = call.state(initialState, false);
            lla_tensor ct = call.tensor(out, true);
            lla_state fin = call.state(finalState, true);
            call.check(lla_forward(c, inputs, initial, ct, fin, scratch, workspaceCapacity(), NativeCall.stream(stream)));
        }
    }

    // ---- backward ----

    /** All gradients of fresh sequences, given {@code dO = dLoss/do [B, T, H, V]}. */
    public Gradients backward(AttentionInputs in, Tensor dO) {
        return backward(in, null, dO, null);
    }

    /**
     * All gradients given {@code dO = dLoss/do}, for a forward that continued from
     * {@code initialState} (pass the same state; null: fresh sequences), with no gradient arriving
     * through the state that forward exports (as for the last segment of a sequence):
     * {@link #backward(AttentionInputs, State, Tensor, Tensor) backward(in, initialState, dO, null)}.
     * So, like that method, it also returns {@link Gradients#dInitialState()} whenever
     * {@code initialState} is not null.
     */
    public Gradients backward(AttentionInputs in, State initialState, Tensor dO) {
        return backward(in, initialState, dO, null);
    }

    /**
     * All gradients of a call that continued from {@code initialState} (pass the same state as its
     * forward; null: fresh sequences), given {@code dO = dLoss/do [B, T, H, V]} and
     * {@code dFinalState}, dLoss/d of the canonical final state that the same call's forward
     * exports ({@code [N, H, Ls, K, V]} in the state dtype, {@code Ls >= bit_length(final position) + 1};
     * null: zero, the loss does not depend on it). Each input's gradient is allocated like its
     * input; when {@code initialState} is not null, {@link Gradients#dInitialState()} is present:
     * dLoss/d of the state's canonical levels, allocated like its levels (Java arrays or direct
     * buffers) in the state dtype with its {@code Ls}.
     *
     * <p>A long sequence trains segment by segment with it: forward each segment from the state
     * the previous one exported, keeping the states; then backward the segments in reverse order,
     * each with its own initial state and, as {@code dFinalState}, the {@code dInitialState} of the
     * segment after it (null for the last). The gradients of every token equal those of one call
     * over the whole sequence, to rounding (docs/training-in-segments.md).
     */
    public Gradients backward(AttentionInputs in, State initialState, Tensor dO, Tensor dFinalState) {
        Objects.requireNonNull(in, "inputs");
        AttentionShape shape = in.shape();
        Gradients grads = Gradients.of(
                Allocation.like(in.q(), shape.queryShape()),
                Allocation.like(in.k(), shape.queryShape()),
                Allocation.like(in.v(), shape.valueShape()),
                Allocation.like(in.g(), shape.gateShape()),
                Allocation.like(in.l(), shape.levelScaleShape()));
        if (in.beta().isPresent()) {
            Tensor beta = in.beta().get();
            grads = grads.withDbeta(Allocation.like(beta, shape.gateShape()));
        }
        if (initialState != null) {
            Tensor levels = initialState.levels();
            grads = grads.withDInitialState(Allocation.like(levels, levels.shape()));
        }
        try {
            backwardInto(in, initialState, dO, dFinalState, grads);
        } catch (RuntimeException e) {
            grads.close();
            throw e;
        }
        return grads;
    }

    /**
     * Writes all gradients into {@code grads} (any memory kind, including CUDA memory), with no
     * gradient arriving through the exported final state: {@code backwardInto(in, initialState, dO,
     * null, grads)}.
     */
    public void backwardInto(AttentionInputs in, State initialState, Tensor dO, Gradients grads) {
        backwardInto(in, initialState, dO, null, grads);
    }

    /**
     * Writes all gradients into {@code grads} (any memory kind, including CUDA memory), given
     * {@code dO} and {@code dFinalState} (null: zero) as in
     * {@link #backward(AttentionInputs, State, Tensor, Tensor)}; dLoss/d of the initial state's
     * canonical levels goes to {@link Gradients#dInitialState()} when {@code grads} has one (it
     * needs an initial state, with its {@code Ls} and dtype).
     */
    public void backwardInto(AttentionInputs in, State initialState, Tensor dO, Tensor dFinalState,
                             Gradients grads) {
        Objects.requireNonNull(in, "inputs");
        Objects.requireNonNull(grads, "grads");
        Tensor dOut = AttentionInputs.shaped("d_o", dO, in.shape().valueShape());
        Gradients shaped = grads.shapedFor(in.shape(), initialState);
        Device device = NativeCall.deviceOf(in.q(), in.v(), dOut, shaped.dq(), levels(initialState));
        Pointer scratch = workspaceFor(device);
        try (NativeCall call = new NativeCall(device, stream)) {
            call.check(lla_backward(call.config(config), call.inputs(in, false), call.state(initialState, false),
                    call.tensor(dOut, false), dFinalState == null ? null : call.tensor(dFinalState, false),
                    call.gradients(shaped), scratch, workspaceCapacity(), NativeCall.stream(stream)));
        }
    }

    // ---- decoding ----

    /**
     * A fresh decoding state for {@code numSequences} sequences in memory of {@code device}
     * (the host, or a CUDA device), as {@link #newDecodeState(long, long, long, long, long, DType)}.
     */
    public DecodeState newDecodeState(long numSequences, long heads, long stateLevels, long keyDim, long valueDim,
                                      DType dtype, Device device) {
        return DecodeState.allocate(this, numSequences, heads, stateLevels, keyDim, valueDim, dtype, device);
    }

    /**
     * A fresh decoding state for {@code numSequences} sequences in native host memory, holding
     * {@code stateLevels} levels: enough for positions up to {@code 2^(stateLevels - 1) - 1}
     * ({@link AttentionShape#levelsForPosition(long)}). {@code dtype} is FLOAT32, or FLOAT64 for
     * float64 calls. Close it to free the memory.
     */
    public DecodeState newDecodeState(long numSequences, long heads, long stateLevels, long keyDim, long valueDim,
                                      DType dtype) {
        return DecodeState.allocate(this, numSequences, heads, stateLevels, keyDim, valueDim, dtype, Device.CPU);
    }

    /**
     * A fresh decoding state for the sequences of {@code shape} ({@code N} of them), with
     * {@code L} levels, for calls of {@code dtype}'s precision.
     */
    public DecodeState newDecodeState(AttentionShape shape, DType dtype) {
        return newDecodeState(shape, dtype, Device.CPU);
    }

    /** As {@link #newDecodeState(AttentionShape, DType)}, in memory of {@code device}. */
    public DecodeState newDecodeState(AttentionShape shape, DType dtype, Device device) {
        return newDecodeState(shape.numSequences(), shape.heads(), shape.levels(), shape.keyDim(), shape.valueDim(),
                dtype, device);
    }

    /**
     * A decoding state over memory you own, for example on a CUDA device:
     * {@code levels [N, H, Ls, K, V]}, {@code logDecay [N, H, Ls]} (same dtype) and
     * {@code positions [N]} int64, zero-filled for fresh sequences. Closing it frees nothing.
     */
    public DecodeState wrapDecodeState(Tensor levels, Tensor logDecay, Tensor positions) {
        return DecodeState.wrap(this, levels, logDecay, positions);
    }

    /** Waits for the work queued on this stream (no-op on the CPU). */
    public void synchronize() {
        Backend backend = config.backend();
        if (backend == Backend.AUTO) {
            backend = isAvailable(Backend.CUDA) ? Backend.CUDA : Backend.CPU;
        }
        try (NativeCall call = new NativeCall()) {
            call.check(lla_synchronize(backend.code(), NativeCall.stream(stream)));
        }
    }

    private static Tensor levels(State state) {
        return state == null ? null : state.levels();
    }

    /** The levels the final states of a call need: {@code bit_length(n + length) + 1} at most. */
    private static long finalStateLevels(AttentionInputs in, State initialState) {
        long[] lengths = in.sequenceLengths();
        long[] start = initialState == null ? new long[lengths.length] : initialState.positionArray();
        long last = 0;
        for (int i = 0; i < lengths.length; i++) {
            long begin = i < start.length ? start[i] : 0;
            last = Math.max(last, begin + Math.max(lengths[i], 0));
        }
        return AttentionShape.levelsForPosition(last);
    }
}
