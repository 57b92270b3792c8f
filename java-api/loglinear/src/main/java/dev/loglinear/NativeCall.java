package dev.loglinear;

import dev.loglinear.presets.lla_config;
import dev.loglinear.presets.lla_gradients;
import dev.loglinear.presets.lla_inputs;
import dev.loglinear.presets.lla_state;
import dev.loglinear.presets.lla_tensor;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.javacpp.ShortPointer;

import static dev.loglinear.presets.global.loglinear.lla_last_error;

/**
 * One call into the C API: builds its structs in native memory, copies Java arrays in (and,
 * after success, outputs back out), turns a failed status into an exception, and frees every
 * native allocation when closed. Confined to the calling thread.
 */
final class NativeCall implements AutoCloseable {
    private final PointerScope scope = new PointerScope();
    private final List<Runnable> copyBacks = new ArrayList<>();

    /** The C configuration of {@code config}. */
    lla_config config(LogLinearConfig config) {
        lla_config c = zeroed(new lla_config());
        c.variant(config.variant().code())
         .backend(config.backend().code())
         .math_mode(config.mathMode().code())
         .num_threads(config.threads())
         .scale(config.scale());
        return c;
    }

    /** The C inputs; {@code dropTime} removes the {@code T} axis (of size 1) for a decode step. */
    lla_inputs inputs(AttentionInputs in, boolean dropTime) {
        lla_inputs c = zeroed(new lla_inputs());
        fill(c.q(), time(in.q(), dropTime), false);
        fill(c.k(), time(in.k(), dropTime), false);
        fill(c.v(), time(in.v(), dropTime), false);
        fill(c.g(), time(in.g(), dropTime), false);
        fill(c.l(), time(in.l(), dropTime), false);
        if (in.beta().isPresent()) {
            fill(c.beta(), time(in.beta().get(), dropTime), false);
        }
        long[] cu = in.shape().cuSeqlens();
        if (cu != null) {
            fill(c.cu_seqlens(), Tensor.of(cu, cu.length), false);
        }
        return c;
    }

    /** A C tensor describing {@code t}; written by the call when {@code output}. */
    lla_tensor tensor(Tensor t, boolean output) {
        lla_tensor c = zeroed(new lla_tensor());
        fill(c, t, output);
        return c;
    }

    /** A C state over {@code levels}, optional {@code logDecay} and {@code positions}. */
    lla_state state(Tensor levels, Tensor logDecay, Tensor positions, boolean output) {
        lla_state c = zeroed(new lla_state());
        fill(c.levels(), levels, output);
        if (logDecay != null) {
            fill(c.log_decay(), logDecay, output);
        }
        fill(c._position(), positions, output);
        return c;
    }

    /** A C state for {@code state}, or null (no state) when it is null. */
    lla_state state(State state, boolean output) {
        return state == null ? null : state(state.levels(), null, state.positions(), output);
    }

    /** C gradient destinations. */
    lla_gradients gradients(Gradients g) {
        lla_gradients c = zeroed(new lla_gradients());
        fill(c.dq(), g.dq(), true);
        fill(c.dk(), g.dk(), true);
        fill(c.dv(), g.dv(), true);
        fill(c.dg(), g.dg(), true);
        fill(c.dl(), g.dl(), true);
        if (g.dbeta().isPresent()) {
            fill(c.dbeta(), g.dbeta().get(), true);
        }
        return c;
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
        if (status != Status.OK.code()) {
            throw LogLinearException.of(status, lla_last_error().getString());
        }
        copyBacks.forEach(Runnable::run);
        copyBacks.clear();
    }

    @Override
    public void close() {
        scope.close();
    }

    private static Tensor time(Tensor t, boolean dropTime) {
        return dropTime ? t.dropAxis(1) : t;
    }

    private static <P extends Pointer> P zeroed(P p) {
        Pointer.memset(p, 0, p.sizeof());
        return p;
    }

    private void fill(lla_tensor c, Tensor t, boolean output) {
        long[] shape = t.shape();
        long[] strides = t.strides();
        c.data(new Storage.Address(address(t, output) + t.offset() * t.dtype().byteSize()))
         .dtype(t.dtype().code())
         .device_type(t.device().kind().code())
         .device_index(t.device().index())
         .ndim(shape.length);
        for (int d = 0; d < shape.length; d++) {
            c.shape(d, shape[d]).strides(d, strides[d]);
        }
    }

    /** The native address of {@code t}'s memory; Java arrays are copied to native memory first. */
    private long address(Tensor t, boolean output) {
        Storage storage = t.storage();
        if (storage instanceof Storage.Native nat) {
            return nat.address();
        }
        Object array = ((Storage.Heap) storage).array();
        // An output that covers its whole array needs no copy in: the call writes every element.
        // Empty arrays still get one element, so that the library reports their shape, not a NULL.
        boolean copyIn = !output || !t.isContiguous() || t.offset() != 0 || t.numel() != storage.capacity();
        Pointer p;
        Runnable copyBack;
        if (array instanceof float[] a) {
            FloatPointer fp = new FloatPointer(Math.max(1, a.length));
            if (copyIn) {
                fp.put(a);
            }
            p = fp;
            copyBack = () -> fp.get(a);
        } else if (array instanceof double[] a) {
            DoublePointer dp = new DoublePointer(Math.max(1, a.length));
            if (copyIn) {
                dp.put(a);
            }
            p = dp;
            copyBack = () -> dp.get(a);
        } else if (array instanceof short[] a) {
            ShortPointer sp = new ShortPointer(Math.max(1, a.length));
            if (copyIn) {
                sp.put(a);
            }
            p = sp;
            copyBack = () -> sp.get(a);
        } else {
            long[] a = (long[]) array;
            LongPointer lp = new LongPointer(Math.max(1, a.length));
            if (copyIn) {
                lp.put(a);
            }
            p = lp;
            copyBack = () -> lp.get(a);
        }
        if (output) {
            copyBacks.add(copyBack);
        }
        return p.address();
    }
}
