package dev.loglinear;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerScope;

/**
 * Native memory a thread reuses from call to call: a block for the C structs of one call and
 * a scratch block for copies of small Java arrays, so that a small call allocates no native
 * memory at all. Larger copies get memory of their own, freed when the call ends. One frame per
 * thread ({@link #acquire()}); its memory is freed when the thread's frame becomes unreachable.
 */
final class NativeFrame {
    /** Room for the structs of any call: config, inputs, three states, two tensors, gradients. */
    private static final int STRUCT_BYTES = 4096;
    /** Scratch kept between calls; copies beyond it are allocated per call. */
    private static final int KEPT_SCRATCH_BYTES = 1 << 20;
    private static final int ALIGNMENT = 64;
    private static final byte[] ZEROS = new byte[STRUCT_BYTES];
    private static final ThreadLocal<NativeFrame> FRAMES = ThreadLocal.withInitial(NativeFrame::new);

    private final BytePointer structs;
    private final ByteBuffer structBytes;
    private BytePointer keptScratch;
    private ByteBuffer keptScratchBytes;
    private int structUsed;
    private int scratchUsed;
    private boolean busy;

    private NativeFrame() {
        structs = unscoped(new BytePointer(STRUCT_BYTES));
        structBytes = structs.capacity(STRUCT_BYTES).asByteBuffer().order(ByteOrder.nativeOrder());
    }

    /** This thread's frame, reset; a fresh one if it is in use (a call made while another runs). */
    static NativeFrame acquire() {
        NativeFrame frame = FRAMES.get();
        if (frame.busy) {
            frame = new NativeFrame();
        }
        frame.busy = true;
        frame.structUsed = 0;
        frame.scratchUsed = 0;
        return frame;
    }

    /** Ends the call that acquired this frame. */
    void release() {
        busy = false;
    }

    /** Zeroed struct memory of {@code bytes}; returns its offset in {@link #structBytes()}. */
    int struct(int bytes) {
        int offset = align(structUsed);
        if (offset + bytes > STRUCT_BYTES) {
            throw new IllegalStateException("native call needs more than " + STRUCT_BYTES + " bytes of structs");
        }
        structBytes.put(offset, ZEROS, 0, bytes);
        structUsed = offset + bytes;
        return offset;
    }

    /** The struct block, native byte order, for absolute puts. */
    ByteBuffer structBytes() {
        return structBytes;
    }

    /** The address of struct memory at {@code offset}. */
    long structAddress(int offset) {
        return structs.address() + offset;
    }

    /** Native memory at {@code address}, viewed by {@code bytes} (native byte order). */
    record Region(long address, ByteBuffer bytes) {
    }

    /**
     * {@code bytes} of scratch memory for this call from the kept block, or {@code null} when it
     * has no room left (the caller then allocates memory of its own).
     */
    Region scratch(long bytes) {
        int offset = align(scratchUsed);
        if (bytes > KEPT_SCRATCH_BYTES - offset) {
            return null;
        }
        if (keptScratch == null) {
            keptScratch = unscoped(new BytePointer(KEPT_SCRATCH_BYTES));
            keptScratchBytes = keptScratch.capacity(KEPT_SCRATCH_BYTES).asByteBuffer();
        }
        scratchUsed = offset + (int) bytes;
        return new Region(keptScratch.address() + offset,
                keptScratchBytes.slice(offset, (int) bytes).order(ByteOrder.nativeOrder()));
    }

    private static int align(int n) {
        return (n + ALIGNMENT - 1) & -ALIGNMENT;
    }

    /**
     * {@code p}, detached from any PointerScope the caller may have open: memory of the library
     * that it frees itself (or, for frames, that lives as long as the thread's frame).
     */
    static <P extends Pointer> P unscoped(P p) {
        if (p.isNull()) {
            throw new OutOfMemoryException("host memory: allocation of " + p.capacity() + " elements failed");
        }
        PointerScope scope = PointerScope.getInnerScope();
        if (scope != null) {
            scope.detach(p);
        }
        return p;
    }
}
