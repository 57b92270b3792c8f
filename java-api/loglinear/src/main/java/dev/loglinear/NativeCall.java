package dev.loglinear;

import dev.loglinear.presets.lla_config;
import dev.loglinear.presets.lla_gradients;
import dev.loglinear.presets.lla_inputs;
import dev.loglinear.presets.lla_state;
import dev.loglinear.presets.lla_tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;

import static dev.loglinear.presets.global.loglinear.lla_synchronize;

/**
 * One call into the C API, on one device. Its structs are written straight into this thread's
 * {@link NativeFrame} (no JNI call per field), Java arrays are copied into memory of the call's
 * device (native scratch memory on the host, CUDA memory for a CUDA call; outputs copied back
 * after success), a failed status becomes an exception carrying the library's message, and
 * everything the call allocated is freed when it is closed. Confined to the calling thread.
 */
final class NativeCall implements AutoCloseable {
    // Struct layouts as compiled into the JNI library (JavaCPP's offsetof/sizeof).
    private static final int TENSOR = size(lla_tensor.class);
    private static final int T_DATA = offset(lla_tensor.class, "data");
    private static final int T_DTYPE = offset(lla_tensor.class, "dtype");
    private static final int T_DEVICE_TYPE = offset(lla_tensor.class, "device_type");
    private static final int T_DEVICE_INDEX = offset(lla_tensor.class, "device_index");
    private static final int T_NDIM = offset(lla_tensor.class, "ndim");
    private static final int T_SHAPE = offset(lla_tensor.class, "shape");
    private static final int T_STRIDES = offset(lla_tensor.class, "strides");
    private static final int CONFIG = size(lla_config.class);
    private static final int C_VARIANT = offset(lla_config.class, "variant");
    private static final int C_BACKEND = offset(lla_config.class, "backend");
    private static final int C_MATH_MODE = offset(lla_config.class, "math_mode");
    private static final int C_NUM_THREADS = offset(lla_config.class, "num_threads");
    private static final int C_SCALE = offset(lla_config.class, "scale");
    private static final int INPUTS = size(lla_inputs.class);
    private static final int IN_Q = offset(lla_inputs.class, "q");
    private static final int IN_K = offset(lla_inputs.class, "k");
    private static final int IN_V = offset(lla_inputs.class, "v");
    private static final int IN_G = offset(lla_inputs.class, "g");
    private static final int IN_L = offset(lla_inputs.class, "l");
    private static final int IN_BETA = offset(lla_inputs.class, "beta");
    private static final int IN_CU_SEQLENS = offset(lla_inputs.class, "cu_seqlens");
    private static final int STATE = size(lla_state.class);
    private static final int ST_LEVELS = offset(lla_state.class, "levels");
    private static final int ST_LOG_DECAY = offset(lla_state.class, "log_decay");
    private static final int ST_POSITION = offset(lla_state.class, "position");
    private static final int GRADIENTS = size(lla_gradients.class);
    private static final int GR_DQ = offset(lla_gradients.class, "dq");
    private static final int GR_DK = offset(lla_gradients.class, "dk");
    private static final int GR_DV = offset(lla_gradients.class, "dv");
    private static final int GR_DG = offset(lla_gradients.class, "dg");
    private static final int GR_DL = offset(lla_gradients.class, "dl");
    private static final int GR_DBETA = offset(lla_gradients.class, "dbeta");
    private static final int GR_D_INITIAL_STATE = offset(lla_gradients.class, "d_initial_state");

    private final NativeFrame frame = NativeFrame.acquire();
    private final List<Runnable> copyBacks = new ArrayList<>(4);
    private final List<Pointer> allocations = new ArrayList<>(0);
    private final List<NativeBuffer> deviceTemporaries = new ArrayList<>(0);
    private final Device device;
    private final long stream;
    /**
     * Whether Java arrays go to CUDA memory: a CUDA call where CUDA is usable. Elsewhere they stay
     * host memory and the library reports what is wrong with the call (mixed devices, no CUDA).
     */
    private final boolean staging;

    /** A call on the host. */
    NativeCall() {
        this(Device.CPU, 0);
    }

    /** A call on {@code device}, queued on {@code stream} (CUDA; 0: the default stream). */
    NativeCall(Device device, long stream) {
        this.device = device;
        this.stream = stream;
        this.staging = !device.isCpu() && Device.cudaDeviceCount() > 0;
    }

    /**
     * The device of a call over {@code tensors} (nulls skipped): that of the first one in native
     * memory; the host when all are Java arrays. The library checks that they agree.
     */
    static Device deviceOf(Tensor... tensors) {
        for (Tensor t : tensors) {
            if (t != null && !t.isHeap()) {
                return t.device();
            }
        }
        return Device.CPU;
    }

    /** The C configuration of {@code config}. */
    lla_config config(LogLinearConfig config) {
        int at = frame.struct(CONFIG);
        frame.structBytes()
             .putInt(at + C_VARIANT, config.variant().code())
             .putInt(at + C_BACKEND, config.backend().code())
             .putInt(at + C_MATH_MODE, config.mathMode().code())
             .putInt(at + C_NUM_THREADS, config.threads())
             .putDouble(at + C_SCALE, config.scale());
        return new lla_config(pointer(at));
    }

    /** The C inputs; {@code dropTime} removes the {@code T} axis (of size 1) for a decode step. */
    lla_inputs inputs(AttentionInputs in, boolean dropTime) {
        int at = frame.struct(INPUTS);
        fill(at + IN_Q, time(in.q(), dropTime), false);
        fill(at + IN_K, time(in.k(), dropTime), false);
        fill(at + IN_V, time(in.v(), dropTime), false);
        fill(at + IN_G, time(in.g(), dropTime), false);
        fill(at + IN_L, time(in.l(), dropTime), false);
        if (in.beta().isPresent()) {
            fill(at + IN_BETA, time(in.beta().get(), dropTime), false);
        }
        long[] cu = in.shape().cuSeqlens();
        if (cu != null) {
            fill(at + IN_CU_SEQLENS, Tensor.of(cu, cu.length), false);
        }
        return new lla_inputs(pointer(at));
    }

    /** A C tensor describing {@code t}; written by the call when {@code output}. */
    lla_tensor tensor(Tensor t, boolean output) {
        int at = frame.struct(TENSOR);
        fill(at, t, output);
        return new lla_tensor(pointer(at));
    }

    /** A C state over {@code levels}, optional {@code logDecay} and {@code positions}. */
    lla_state state(Tensor levels, Tensor logDecay, Tensor positions, boolean output) {
        int at = frame.struct(STATE);
        fill(at + ST_LEVELS, levels, output);
        if (logDecay != null) {
            fill(at + ST_LOG_DECAY, logDecay, output);
        }
        fill(at + ST_POSITION, positions, output);
        return new lla_state(pointer(at));
    }

    /** A C state for {@code state}, or null (no state) when it is null. */
    lla_state state(State state, boolean output) {
        return state == null ? null : state(state.levels(), null, state.positions(), output);
    }

    /** C gradient destinations. */
    lla_gradients gradients(Gradients g) {
        int at = frame.struct(GRADIENTS);
        fill(at + GR_DQ, g.dq(), true);
        fill(at + GR_DK, g.dk(), true);
        fill(at + GR_DV, g.dv(), true);
        fill(at + GR_DG, g.dg(), true);
        fill(at + GR_DL, g.dl(), true);
        if (g.dbeta().isPresent()) {
            fill(at + GR_DBETA, g.dbeta().get(), true);
        }
        if (g.dInitialState().isPresent()) {
            fill(at + GR_D_INITIAL_STATE, g.dInitialState().get(), true);
        }
        return new lla_gradients(pointer(at));
    }

    /** Zero-filled memory of the call's device for the duration of this call, as a tensor. */
    Tensor temporary(DType dtype, long[] shape) {
        if (staging) {
            NativeBuffer buffer = deviceTemporary(Tensor.product(shape) * dtype.byteSize(), true);
            return Tensor.ofAddress(buffer.address("temporary"), dtype, device, shape);
        }
        NativeFrame.Region region = memory(Tensor.product(shape) * dtype.byteSize());
        Pointer.memset(new Storage.Address(region.address()), 0, region.bytes().capacity());
        return Tensor.ofAddress(region.address(), dtype, Device.CPU, shape);
    }

    /** A CUDA stream argument: null for the default stream (0). */
    static Pointer stream(long stream) {
        return stream == 0 ? null : new Storage.Address(stream);
    }

    /**
     * Throws the exception of a failed status, with the message the library left for this thread;
     * after success, copies outputs that live in Java arrays back into them.
     */
    void check(int status) {
        LogLinearException.check(status);
        copyBacks.forEach(Runnable::run);
        copyBacks.clear();
    }

    @Override
    public void close() {
        if (!deviceTemporaries.isEmpty()) {
            // Queued work may still read them: wait for it (a failed call's error is already thrown).
            lla_synchronize(Backend.CUDA.code(), stream(stream));
            deviceTemporaries.forEach(NativeBuffer::close);
        }
        for (Pointer p : allocations) {
            p.close();
        }
        frame.release();
    }

    private Pointer pointer(int structOffset) {
        return new Storage.Address(frame.structAddress(structOffset));
    }

    private static Tensor time(Tensor t, boolean dropTime) {
        return dropTime ? t.dropAxis(1) : t;
    }

    private void fill(int at, Tensor t, boolean output) {
        long[] shape = t.shape();
        long[] strides = t.strides();
        ByteBuffer b = frame.structBytes();
        Device where = t.isHeap() && staging ? device : t.device();
        b.putLong(at + T_DATA, address(t, output) + t.offset() * t.dtype().byteSize())
         .putInt(at + T_DTYPE, t.dtype().code())
         .putInt(at + T_DEVICE_TYPE, where.kind().code())
         .putInt(at + T_DEVICE_INDEX, where.index())
         .putInt(at + T_NDIM, shape.length);
        for (int d = 0; d < shape.length; d++) {
            b.putLong(at + T_SHAPE + 8 * d, shape[d]).putLong(at + T_STRIDES + 8 * d, strides[d]);
        }
    }

    /** The native address of {@code t}'s memory; Java arrays are copied to the call's device first. */
    private long address(Tensor t, boolean output) {
        Storage storage = t.storage();
        if (storage instanceof Storage.Native nat) {
            return nat.liveAddress("a tensor of this call");
        }
        Storage.Heap heap = (Storage.Heap) storage;
        // Empty arrays still get one element, so that the library reports their shape, not a NULL.
        long arrayBytes = Math.max(1, storage.capacity()) * t.dtype().byteSize();
        NativeFrame.Region region = memory(arrayBytes);
        ByteBuffer bytes = region.bytes();
        // An output that covers its whole array needs no copy in: the call writes every element.
        boolean copyIn = !output || !t.isContiguous() || t.offset() != 0 || t.numel() != storage.capacity();
        if (copyIn) {
            heap.putInto(bytes);
        }
        Runnable copyBack = () -> heap.getFrom(bytes);
        if (!staging) {
            if (output) {
                copyBacks.add(copyBack);
            }
            return region.address();
        }
        // A CUDA call: the array's bytes go through host scratch to device memory and back.
        NativeBuffer staged = deviceTemporary(arrayBytes, false);
        long deviceAddress = staged.address("staging");
        if (copyIn) {
            DeviceCopy.copy(deviceAddress, region.address(), arrayBytes, stream);
        }
        if (output) {
            copyBacks.add(() -> {
                DeviceCopy.copy(region.address(), deviceAddress, arrayBytes, stream);
                copyBack.run();
            });
        }
        return deviceAddress;
    }

    /** CUDA memory of the call's device, freed when the call is closed. */
    private NativeBuffer deviceTemporary(long bytes, boolean zero) {
        NativeBuffer buffer = NativeBuffer.allocate(device, bytes, zero);
        deviceTemporaries.add(buffer);
        return buffer;
    }

    /** Host memory for this call: the frame's scratch when it has room, else an allocation of its own. */
    private NativeFrame.Region memory(long bytes) {
        NativeFrame.Region region = frame.scratch(bytes);
        if (region != null) {
            return region;
        }
        if (bytes > Integer.MAX_VALUE) {
            throw new InvalidArgumentException("Java array copy: expected at most 2^31 - 1 bytes, got " + bytes);
        }
        BytePointer p = NativeFrame.unscoped(new BytePointer(bytes));
        allocations.add(p);
        return new NativeFrame.Region(p.address(), p.capacity(bytes).asByteBuffer().order(ByteOrder.nativeOrder()));
    }

    private static int size(Class<? extends Pointer> struct) {
        Loader.load(dev.loglinear.presets.global.loglinear.class);
        return Loader.sizeof(struct);
    }

    private static int offset(Class<? extends Pointer> struct, String member) {
        Loader.load(dev.loglinear.presets.global.loglinear.class);
        return Loader.offsetof(struct, member);
    }
}
