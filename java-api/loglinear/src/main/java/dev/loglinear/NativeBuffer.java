package dev.loglinear;

import java.lang.ref.Cleaner;
import java.util.concurrent.atomic.AtomicLong;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;

import static dev.loglinear.presets.global.loglinear.lla_cuda_free;
import static dev.loglinear.presets.global.loglinear.lla_cuda_malloc;
import static dev.loglinear.presets.global.loglinear.lla_cuda_memset;

/**
 * Memory that the Java API allocated for a {@link Tensor} or a call: host memory ({@code calloc})
 * or memory of a CUDA device ({@code lla_cuda_malloc}). Freed by {@link #close()}, or when it
 * becomes unreachable, whichever comes first; using it after that is reported as an error, not a
 * crash.
 */
final class NativeBuffer implements AutoCloseable {
    private static final Cleaner CLEANER = Cleaner.create();

    private final Device device;
    private final long bytes;
    /** The address; 0 once freed. Shared with the cleaning action, which must not hold {@code this}. */
    private final AtomicLong address;
    private final Cleaner.Cleanable cleanable;

    private NativeBuffer(Device device, long bytes, long address) {
        this.device = device;
        this.bytes = bytes;
        this.address = new AtomicLong(address);
        this.cleanable = CLEANER.register(this, new Free(this.address, device.isCpu()));
    }

    /** {@code bytes} (at least one) of zero-filled memory of {@code device}. */
    static NativeBuffer allocate(Device device, long bytes) {
        return allocate(device, bytes, true);
    }

    /** {@code bytes} (at least one) of memory of {@code device}, zero-filled when {@code zero}. */
    static NativeBuffer allocate(Device device, long bytes, boolean zero) {
        long size = Math.max(1, bytes);
        if (device.isCpu()) {
            Pointer p = Pointer.calloc(1, size);
            if (p == null || p.isNull()) {
                throw new OutOfMemoryException("host memory allocation of " + size + " bytes failed");
            }
            return new NativeBuffer(device, size, p.address());
        }
        long address;
        try (PointerPointer<?> out = new PointerPointer<>(1)) {
            LogLinearException.check(lla_cuda_malloc(device.index(), size, out));
            address = out.get(0).address();
        }
        NativeBuffer buffer = new NativeBuffer(device, size, address);
        if (!zero) {
            return buffer;
        }
        try {
            LogLinearException.check(lla_cuda_memset(new Storage.Address(address), 0, size, null));
        } catch (RuntimeException e) {
            buffer.close();
            throw e;
        }
        return buffer;
    }

    Device device() {
        return device;
    }

    long bytes() {
        return bytes;
    }

    /** The address, or an exception naming {@code what} once the memory was freed. */
    long address(String what) {
        long a = address.get();
        if (a == 0) {
            throw new IllegalStateException(what + ": the " + device + " memory of this tensor was released by "
                    + "close(); allocate a new tensor");
        }
        return a;
    }

    boolean isOpen() {
        return address.get() != 0;
    }

    /** Frees the memory (CUDA: after the device work that may use it). Idempotent. */
    @Override
    public void close() {
        cleanable.clean();
    }

    /** The cleaning action: frees the address once, by close() or after the buffer became unreachable. */
    private record Free(AtomicLong address, boolean host) implements Runnable {
        @Override
        public void run() {
            long a = address.getAndSet(0);
            if (a == 0) {
                return;
            }
            if (host) {
                Pointer.free(new Storage.Address(a));
            } else {
                lla_cuda_free(new Storage.Address(a));
            }
        }
    }
}
