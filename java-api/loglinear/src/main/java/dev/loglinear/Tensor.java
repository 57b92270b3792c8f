package dev.loglinear;

import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.ShortBuffer;
import java.util.Arrays;
import java.util.Objects;
import org.bytedeco.javacpp.Pointer;

/**
 * A typed, shaped view of memory that loglinear reads or writes: a Java array, a direct NIO
 * buffer, a JavaCPP {@link Pointer}, or a raw address (host or CUDA memory). Immutable; the
 * memory it views is not.
 *
 * <ul>
 * <li>Java arrays ({@link #of(float[], long...)} and friends) are copied into native memory for
 *     each call and, for outputs, copied back after a successful call.</li>
 * <li>Direct buffers, pointers and addresses are used in place: no copies. Buffers must be
 *     direct and in native byte order ({@code ByteBuffer.allocateDirect(n).order(ByteOrder.nativeOrder())});
 *     the view starts at the buffer's or pointer's current position.</li>
 * <li>CUDA memory: {@link #allocate(Device, DType, long...)} and {@link #to(Device)} allocate it
 *     through the library; {@link #ofAddress} wraps memory that another stack owns, without a
 *     copy. {@link #copyFrom(Tensor)} and {@link #copyTo(Tensor)} move elements between any two
 *     kinds of memory, and the readers ({@link #toFloatArray()} and friends) work on any.</li>
 * </ul>
 *
 * <h2>Closing</h2>
 * A tensor made by {@link #allocate} or {@link #to} owns its memory (host or CUDA): {@link #close()}
 * frees it (use try-with-resources), and so does the garbage collector, late, if it is never
 * closed. Views of it ({@link #slice}, {@link #reshape}, {@link #withStrides}) share the memory and
 * own nothing; using any of them after the owner is closed throws {@link IllegalStateException}.
 * Closing any other tensor does nothing.
 *
 * <p>Shapes and strides are counted in elements. A tensor made without a shape is <em>flat</em>:
 * one dimension covering the whole array or buffer, which {@link AttentionInputs} reshapes to the
 * shape its role has in an {@link AttentionShape}. Views are bounds-checked against the array,
 * buffer or pointer they come from when they are made; a raw address cannot be checked and is
 * the caller's responsibility.
 */
public final class Tensor implements AutoCloseable {
    /** Dimensions a tensor may have ({@code LLA_MAX_DIMS}). */
    public static final int MAX_DIMS = 5;

    private final Storage storage;
    private final DType dtype;
    private final long[] shape;
    private final long[] strides;
    private final long offset;
    private final boolean flat;
    /** Whether closing this tensor frees its memory: made by allocate or to, not a view. */
    private final boolean owner;

    private Tensor(Storage storage, DType dtype, long[] shape, long[] strides, long offset, boolean flat) {
        this(storage, dtype, shape, strides, offset, flat, false);
    }

    private Tensor(Storage storage, DType dtype, long[] shape, long[] strides, long offset, boolean flat,
                   boolean owner) {
        this.storage = storage;
        this.dtype = dtype;
        this.shape = shape;
        this.strides = strides;
        this.offset = offset;
        this.flat = flat;
        this.owner = owner;
        checkExtent();
    }

    private static Tensor create(Storage storage, DType dtype, long[] shape) {
        if (shape.length == 0) {
            long capacity = storage.capacity();
            if (capacity < 0) {
                throw new InvalidArgumentException("shape: a tensor at a raw address needs an explicit shape");
            }
            return new Tensor(storage, dtype, new long[] {capacity}, new long[] {1}, 0, true);
        }
        long[] s = shape.clone();
        return new Tensor(storage, dtype, s, contiguousStrides(s), 0, false);
    }

    // ---- Java arrays (copied per call) ----

    /** float32 data in a Java array; no shape: flat over the whole array. */
    public static Tensor of(float[] data, long... shape) {
        return create(new Storage.Heap(Objects.requireNonNull(data, "data")), DType.FLOAT32, shape);
    }

    /** float64 data in a Java array; no shape: flat over the whole array. */
    public static Tensor of(double[] data, long... shape) {
        return create(new Storage.Heap(Objects.requireNonNull(data, "data")), DType.FLOAT64, shape);
    }

    /** int64 data ({@code cu_seqlens}, positions) in a Java array; no shape: flat. */
    public static Tensor of(long[] data, long... shape) {
        return create(new Storage.Heap(Objects.requireNonNull(data, "data")), DType.INT64, shape);
    }

    /**
     * 16-bit floats given by their bits ({@link DType#BFLOAT16} or {@link DType#FLOAT16}) in a Java
     * array; no shape: flat.
     */
    public static Tensor ofBits(short[] bits, DType dtype, long... shape) {
        requireHalf(dtype);
        return create(new Storage.Heap(Objects.requireNonNull(bits, "bits")), dtype, shape);
    }

    /** {@code values} rounded to bfloat16 (round to nearest even), in a new Java array. */
    public static Tensor bfloat16(float[] values, long... shape) {
        return ofBits(HalfFloats.toBFloat16(values), DType.BFLOAT16, shape);
    }

    /** A zero-filled tensor in a new Java array of the dtype's element type. */
    public static Tensor zeros(DType dtype, long... shape) {
        requireShape(shape);
        long n = product(shape);
        int length = checkedArrayLength(n);
        Object array = switch (dtype) {
            case FLOAT32 -> new float[length];
            case FLOAT64 -> new double[length];
            case BFLOAT16, FLOAT16 -> new short[length];
            case INT64 -> new long[length];
        };
        return create(new Storage.Heap(array), dtype, shape);
    }

    // ---- native memory (used in place) ----

    /** float32 data in a direct buffer, from its position; no shape: flat to its limit. */
    public static Tensor of(FloatBuffer buffer, long... shape) {
        return ofBuffer(buffer, DType.FLOAT32, shape);
    }

    /** float64 data in a direct buffer, from its position; no shape: flat to its limit. */
    public static Tensor of(DoubleBuffer buffer, long... shape) {
        return ofBuffer(buffer, DType.FLOAT64, shape);
    }

    /** int64 data in a direct buffer, from its position; no shape: flat to its limit. */
    public static Tensor of(LongBuffer buffer, long... shape) {
        return ofBuffer(buffer, DType.INT64, shape);
    }

    /** bfloat16 or float16 bits in a direct buffer, from its position; no shape: flat to its limit. */
    public static Tensor of(ShortBuffer buffer, DType dtype, long... shape) {
        requireHalf(dtype);
        return ofBuffer(buffer, dtype, shape);
    }

    /**
     * Elements of any dtype in a direct byte buffer, from its position; no shape: flat to its
     * limit. This is how bfloat16 data usually arrives. The first element's address must be a
     * multiple of the element size (the library rejects misaligned data).
     */
    public static Tensor of(ByteBuffer buffer, DType dtype, long... shape) {
        Objects.requireNonNull(dtype, "dtype");
        return ofBuffer(buffer, dtype, shape);
    }

    /**
     * Elements in host memory held by a JavaCPP pointer, from its position (counted in the
     * pointer's own element size). With a shape, the pointer's limit (when set) bounds the view;
     * without one, the view is flat from position to limit.
     */
    public static Tensor of(Pointer pointer, DType dtype, long... shape) {
        Objects.requireNonNull(pointer, "pointer");
        Objects.requireNonNull(dtype, "dtype");
        if (pointer.isNull()) {
            throw new InvalidArgumentException("pointer: expected non-null memory, got a null pointer");
        }
        long elementSize = Math.max(1, pointer.sizeof());
        long start = pointer.address() + pointer.position() * elementSize;
        long bytes = pointer.limit() > pointer.position() ? (pointer.limit() - pointer.position()) * elementSize : -1;
        return create(new Storage.Native(start, bytes, dtype.byteSize(), Device.CPU, pointer), dtype, shape);
    }

    /**
     * Elements at a raw address on {@code device}: CUDA device memory from another library, or
     * host memory allocated outside Java. The address must stay valid while the tensor is used;
     * nothing can be bounds-checked.
     */
    public static Tensor ofAddress(long address, DType dtype, Device device, long... shape) {
        Objects.requireNonNull(dtype, "dtype");
        Objects.requireNonNull(device, "device");
        requireShape(shape);
        return create(new Storage.Native(address, -1, dtype.byteSize(), device, null), dtype, shape);
    }

    /** A zero-filled tensor in a new direct byte buffer (native byte order). */
    public static Tensor allocateDirect(DType dtype, long... shape) {
        requireShape(shape);
        return of(directBytes(product(shape) * dtype.byteSize()), dtype, shape);
    }

    /**
     * A zero-filled, dense tensor in new memory of {@code device} (the host, or a CUDA device)
     * that this tensor owns: {@link #close()} frees it (the garbage collector does, late, if it
     * is never closed). Without a usable CUDA device, asking for one throws
     * {@link UnsupportedException} with the library's reason.
     */
    public static Tensor allocate(Device device, DType dtype, long... shape) {
        Objects.requireNonNull(device, "device");
        Objects.requireNonNull(dtype, "dtype");
        requireShape(shape);
        long[] s = shape.clone();
        requireSizes(s);   // before allocating: the constructor checks the same, too late for that
        long bytes = Math.multiplyExact(product(s), dtype.byteSize());
        NativeBuffer buffer = NativeBuffer.allocate(device, bytes);
        Storage storage = new Storage.Native(buffer.address("allocate"), buffer.bytes(), dtype.byteSize(), device,
                buffer);
        return new Tensor(storage, dtype, s, contiguousStrides(s), 0, false, true);
    }

    /**
     * A dense copy of this tensor in new memory of {@code device}, owned by the copy (close it), as
     * {@link #allocate}. The copy is complete when this returns.
     */
    public Tensor to(Device device) {
        Tensor copy = allocate(device, dtype, shape);
        try {
            copy.copyFrom(this);
        } catch (RuntimeException e) {
            copy.close();
            throw e;
        }
        return copy;
    }

    private static Tensor ofBuffer(Buffer buffer, DType dtype, long[] shape) {
        Objects.requireNonNull(buffer, "buffer");
        if (!buffer.isDirect()) {
            throw new InvalidArgumentException("buffer: expected a direct buffer (ByteBuffer.allocateDirect), got a heap "
                    + buffer.getClass().getSimpleName() + "; use the array overload to copy heap data");
        }
        ByteOrder order = typedOrder(buffer);
        if (order != null && order != ByteOrder.nativeOrder()) {
            throw new InvalidArgumentException("buffer: expected native byte order " + ByteOrder.nativeOrder()
                    + ", got " + order);
        }
        // JavaCPP reads the buffer's base address (JNI GetDirectBufferAddress); the view starts at position.
        long base = new Pointer(buffer).address();
        int elementSize = bufferElementSize(buffer);
        long start = base + (long) buffer.position() * elementSize;
        long bytes = (long) buffer.remaining() * elementSize;
        return create(new Storage.Native(start, bytes, dtype.byteSize(), Device.CPU, buffer), dtype, shape);
    }

    /** The byte order of a typed buffer view; null for a byte buffer, whose bytes have no order. */
    private static ByteOrder typedOrder(Buffer buffer) {
        if (buffer instanceof FloatBuffer b) {
            return b.order();
        } else if (buffer instanceof DoubleBuffer b) {
            return b.order();
        } else if (buffer instanceof LongBuffer b) {
            return b.order();
        } else if (buffer instanceof ShortBuffer b) {
            return b.order();
        }
        return null;
    }

    private static int bufferElementSize(Buffer buffer) {
        if (buffer instanceof DoubleBuffer || buffer instanceof LongBuffer) {
            return 8;
        } else if (buffer instanceof FloatBuffer) {
            return 4;
        } else if (buffer instanceof ShortBuffer) {
            return 2;
        }
        return 1;
    }

    // ---- views ----

    /**
     * The same memory with explicit strides (in elements, one per dimension), for example a slice
     * of a larger tensor or a transposed layout. Checked against the memory's bounds.
     */
    public Tensor withStrides(long... strides) {
        if (strides.length != shape.length) {
            throw new InvalidArgumentException("strides: expected " + shape.length + " values (one per dimension of "
                    + Arrays.toString(shape) + "), got " + strides.length);
        }
        return new Tensor(storage, dtype, shape, strides.clone(), offset, false);
    }

    /**
     * Elements {@code [start, end)} of dimension {@code axis}: the same memory, no copy. For
     * example {@code q.slice(1, n, T)} is the tokens from position {@code n} of a
     * {@code [B, T, G, K]} tensor.
     */
    public Tensor slice(int axis, long start, long end) {
        if (axis < 0 || axis >= shape.length) {
            throw new InvalidArgumentException("slice axis: expected 0 to " + (shape.length - 1) + ", got " + axis);
        }
        if (start < 0 || end < start || end > shape[axis]) {
            throw new InvalidArgumentException("slice of dimension " + axis + ": expected 0 <= start <= end <= "
                    + shape[axis] + ", got [" + start + ", " + end + ")");
        }
        long[] s = shape.clone();
        s[axis] = end - start;
        return new Tensor(storage, dtype, s, strides, offset + start * strides[axis], false);
    }

    /**
     * The same memory, dense row-major, with another shape of the same element count; this
     * tensor must be contiguous.
     */
    public Tensor reshape(long... shape) {
        if (!isContiguous()) {
            throw new InvalidArgumentException("reshape: expected a contiguous tensor, got shape "
                    + Arrays.toString(this.shape) + " with strides " + Arrays.toString(strides));
        }
        if (product(shape) != numel()) {
            throw new InvalidArgumentException("reshape: expected a shape of " + numel() + " elements (as "
                    + Arrays.toString(this.shape) + "), got " + Arrays.toString(shape));
        }
        long[] s = shape.clone();
        return new Tensor(storage, dtype, s, contiguousStrides(s), offset, false);
    }

    /** This tensor without dimension {@code axis}, which must have size 1. */
    Tensor dropAxis(int axis) {
        if (shape[axis] != 1) {
            throw new InvalidArgumentException("dimension " + axis + ": expected size 1, got " + shape[axis]);
        }
        long[] s = new long[shape.length - 1];
        long[] st = new long[shape.length - 1];
        for (int i = 0, j = 0; i < shape.length; i++) {
            if (i != axis) {
                s[j] = shape[i];
                st[j++] = strides[i];
            }
        }
        return new Tensor(storage, dtype, s, st, offset, false);
    }

    // ---- copies ----

    /**
     * Copies the elements of {@code src} into this tensor, between any two kinds of memory (Java
     * arrays, host native memory, CUDA memory), and returns when the copy is complete. Same dtype,
     * and the same shape, except that a flat tensor on either side takes the other's shape when
     * the element counts agree. A tensor in CUDA memory must be dense here (row-major, as
     * {@link #allocate} makes them); host memory may have any strides.
     */
    public void copyFrom(Tensor src) {
        Objects.requireNonNull(src, "src");
        Tensor[] pair = matched("copyFrom", this, src);
        Tensor to = pair[0], from = pair[1];
        if (to.numel() == 0) {
            return;
        }
        if (to.isDenseNative() && from.isDenseNative()) {
            DeviceCopy.copy(to.nativeAddress("copyFrom"), from.nativeAddress("copyFrom"), to.byteSize(), 0);
        } else {
            to.writeDense(from.denseBytes("copyFrom"), "copyFrom");
        }
    }

    /**
     * Like {@link #copyFrom(Tensor)}, queued on {@code cudaStream} (0: the default stream) and
     * returning before the copy completes: both tensors must be dense native memory (direct
     * buffers, pointers, CUDA memory), which must stay valid, and host memory untouched, until
     * the stream is synchronized ({@link LogLinear#synchronize()}).
     */
    public void copyFromAsync(Tensor src, long cudaStream) {
        Objects.requireNonNull(src, "src");
        Tensor[] pair = matched("copyFromAsync", this, src);
        Tensor to = pair[0], from = pair[1];
        if (!to.isDenseNative() || !from.isDenseNative()) {
            throw new InvalidArgumentException("copyFromAsync: expected dense tensors in native memory on both sides, "
                    + "got " + from + " into " + this + "; Java arrays and strided views copy with copyFrom");
        }
        if (to.numel() > 0) {
            DeviceCopy.copyAsync(to.nativeAddress("copyFromAsync"), from.nativeAddress("copyFromAsync"),
                    to.byteSize(), cudaStream);
        }
    }

    /** Copies {@code values} (as many as this tensor has elements) into this FLOAT32 tensor. */
    public void copyFrom(float[] values) {
        requireDType("copyFrom(float[])", DType.FLOAT32);
        copyFrom(of(values));
    }

    /** Copies {@code values} into this FLOAT64 tensor. */
    public void copyFrom(double[] values) {
        requireDType("copyFrom(double[])", DType.FLOAT64);
        copyFrom(of(values));
    }

    /** Copies {@code values} into this INT64 tensor. */
    public void copyFrom(long[] values) {
        requireDType("copyFrom(long[])", DType.INT64);
        copyFrom(of(values));
    }

    /** Copies 16-bit float bits into this BFLOAT16 or FLOAT16 tensor. */
    public void copyFromBits(short[] bits) {
        requireHalf(dtype);
        copyFrom(ofBits(bits, dtype));
    }

    /**
     * Copies the elements of a direct buffer, from its position to its limit, into this tensor:
     * a typed buffer of this dtype's element type, or a byte buffer of any dtype.
     */
    public void copyFrom(Buffer buffer) {
        copyFrom(flatOver(buffer));
    }

    /** Copies this tensor's elements into {@code dst}: {@code dst.copyFrom(this)}. */
    public void copyTo(Tensor dst) {
        Objects.requireNonNull(dst, "dst").copyFrom(this);
    }

    /** Copies the elements of this FLOAT32 tensor into {@code out} (as many as it has). */
    public void copyTo(float[] out) {
        requireDType("copyTo(float[])", DType.FLOAT32);
        of(out).copyFrom(this);
    }

    /** Copies the elements of this FLOAT64 tensor into {@code out}. */
    public void copyTo(double[] out) {
        requireDType("copyTo(double[])", DType.FLOAT64);
        of(out).copyFrom(this);
    }

    /** Copies the elements of this INT64 tensor into {@code out}. */
    public void copyTo(long[] out) {
        requireDType("copyTo(long[])", DType.INT64);
        of(out).copyFrom(this);
    }

    /** Copies the bits of this BFLOAT16 or FLOAT16 tensor into {@code out}. */
    public void copyToBits(short[] out) {
        requireHalf(dtype);
        ofBits(out, dtype).copyFrom(this);
    }

    /** Copies this tensor's elements into a direct buffer, from its position (as {@link #copyFrom(Buffer)}). */
    public void copyTo(Buffer buffer) {
        flatOver(buffer).copyFrom(this);
    }

    /**
     * Frees the memory this tensor allocated ({@link #allocate}, {@link #to}), for CUDA memory after
     * the device work that may still use it; idempotent. Closing a view, or a tensor over memory it
     * does not own, does nothing.
     */
    @Override
    public void close() {
        if (owner && storage instanceof Storage.Native nat && nat.owner() instanceof NativeBuffer buffer) {
            buffer.close();
        }
    }

    /** Whether this tensor's memory is still usable: false once the memory it views was freed by close(). */
    public boolean isOpen() {
        return !(storage instanceof Storage.Native nat && nat.owner() instanceof NativeBuffer buffer)
                || buffer.isOpen();
    }

    /** Sets every element to zero (dense native memory, as {@link #allocate} makes it). */
    void fillZero() {
        if (!isDenseNative()) {
            throw new InvalidArgumentException("fillZero: expected a dense tensor in native memory, got " + this);
        }
        if (numel() == 0) {
            return;
        }
        if (device().isCpu()) {
            Pointer.memset(new Storage.Address(nativeAddress("fillZero")), 0, byteSize());
        } else {
            LogLinearException.check(dev.loglinear.presets.global.loglinear.lla_cuda_memset(
                    new Storage.Address(nativeAddress("fillZero")), 0, byteSize(), null));
        }
    }

    // ---- properties ----

    /** The element type. */
    public DType dtype() {
        return dtype;
    }

    /** Where the memory lives. */
    public Device device() {
        return storage.device();
    }

    /** The shape (a copy). */
    public long[] shape() {
        return shape.clone();
    }

    /** The strides in elements (a copy). */
    public long[] strides() {
        return strides.clone();
    }

    /** The number of dimensions. */
    public int rank() {
        return shape.length;
    }

    /** The number of elements. */
    public long numel() {
        return product(shape);
    }

    /** Whether the elements are dense and row-major (C order). */
    public boolean isContiguous() {
        if (numel() <= 1) {
            return true;
        }
        // A dimension of size 1 is never stepped along: its stride does not matter.
        long[] dense = contiguousStrides(shape);
        for (int d = 0; d < shape.length; d++) {
            if (shape[d] != 1 && strides[d] != dense[d]) {
                return false;
            }
        }
        return true;
    }

    /** Whether the data is a Java array (copied per call) rather than native memory. */
    public boolean isHeap() {
        return storage instanceof Storage.Heap;
    }

    /** Made without a shape: {@link AttentionInputs} may give it the shape of its role. */
    boolean isFlat() {
        return flat;
    }

    Storage storage() {
        return storage;
    }

    /** Where the first element is, in elements from the start of the storage. */
    long offset() {
        return offset;
    }

    // ---- reading back ----

    /** The elements in row-major order as float32 (converting other floating dtypes), from any memory. */
    public float[] toFloatArray() {
        Tensor host = onHost("toFloatArray");
        float[] out = new float[checkedArrayLength(numel())];
        ElementReader reader = host.reader("toFloatArray");
        host.forEachOffset((i, offset) -> out[i] = (float) reader.read(offset));
        return out;
    }

    /** The elements in row-major order as float64 (converting other floating dtypes), from any memory. */
    public double[] toDoubleArray() {
        Tensor host = onHost("toDoubleArray");
        double[] out = new double[checkedArrayLength(numel())];
        ElementReader reader = host.reader("toDoubleArray");
        host.forEachOffset((i, offset) -> out[i] = reader.read(offset));
        return out;
    }

    /** The elements in row-major order of an {@link DType#INT64} tensor, from any memory. */
    public long[] toLongArray() {
        if (dtype != DType.INT64) {
            throw new InvalidArgumentException("toLongArray: expected an INT64 tensor, got " + dtype);
        }
        Tensor host = onHost("toLongArray");
        long[] out = new long[checkedArrayLength(numel())];
        LongReader reader = host.longReader();
        host.forEachOffset((i, offset) -> out[i] = reader.read(offset));
        return out;
    }

    /**
     * A dense copy of this tensor in a new direct buffer (host memory, native byte order): memory
     * that every call then uses in place. From any memory.
     */
    public Tensor toDirect() {
        Tensor host = onHost("toDirect");
        Tensor copy = allocateDirect(dtype, shape);
        ByteBuffer bytes = (ByteBuffer) ((Storage.Native) copy.storage).owner();
        if (host.storage instanceof Storage.Heap heap && host.isContiguous() && host.offset == 0
                && host.numel() == heap.capacity()) {
            heap.putInto(bytes);  // a whole array in order: one bulk copy, not an element at a time
            return copy;
        }
        switch (dtype) {
            case FLOAT32 -> bytes.asFloatBuffer().put(host.toFloatArray());
            case FLOAT64 -> bytes.asDoubleBuffer().put(host.toDoubleArray());
            case INT64 -> bytes.asLongBuffer().put(host.toLongArray());
            case BFLOAT16, FLOAT16 -> {
                ShortReader reader = host.shortReader();
                host.forEachOffset((i, at) -> bytes.putShort(i * 2, reader.read(at)));
            }
        }
        return copy;
    }

    @Override
    public String toString() {
        return "Tensor[" + dtype + " " + Arrays.toString(shape) + (isContiguous() ? "" : " strides " + Arrays.toString(strides))
                + " on " + device() + (isHeap() ? ", Java array" : ", native memory") + "]";
    }

    // ---- internals ----

    private interface OffsetConsumer {
        void accept(int index, long offset);
    }

    private interface ElementReader {
        double read(long offset);
    }

    private interface LongReader {
        long read(long offset);
    }

    private interface ShortReader {
        short read(long offset);
    }

    /** Calls {@code consumer} with each element's row-major index and its offset in elements. */
    private void forEachOffset(OffsetConsumer consumer) {
        long n = numel();
        if (n == 0) {
            return;
        }
        long[] index = new long[shape.length];
        long at = offset;
        for (int i = 0; i < n; i++) {
            consumer.accept(i, at);
            for (int d = shape.length - 1; d >= 0; d--) {
                if (++index[d] < shape[d]) {
                    at += strides[d];
                    break;
                }
                at -= (index[d] - 1) * strides[d];
                index[d] = 0;
            }
        }
    }

    private ElementReader reader(String what) {
        if (dtype == DType.INT64) {
            LongReader longs = longReader();
            return offset -> longs.read(offset);
        }
        if (storage instanceof Storage.Heap heap) {
            Object a = heap.array();
            return switch (dtype) {
                case FLOAT32 -> offset -> ((float[]) a)[(int) offset];
                case FLOAT64 -> offset -> ((double[]) a)[(int) offset];
                case BFLOAT16 -> offset -> HalfFloats.bfloat16ToFloat(((short[]) a)[(int) offset]);
                case FLOAT16 -> offset -> HalfFloats.float16ToFloat(((short[]) a)[(int) offset]);
                case INT64 -> throw new IllegalStateException();
            };
        }
        ByteBuffer bytes = hostBytes(what);
        return switch (dtype) {
            case FLOAT32 -> offset -> bytes.getFloat((int) (offset * 4));
            case FLOAT64 -> offset -> bytes.getDouble((int) (offset * 8));
            case BFLOAT16 -> offset -> HalfFloats.bfloat16ToFloat(bytes.getShort((int) (offset * 2)));
            case FLOAT16 -> offset -> HalfFloats.float16ToFloat(bytes.getShort((int) (offset * 2)));
            case INT64 -> throw new IllegalStateException();
        };
    }

    private LongReader longReader() {
        if (storage instanceof Storage.Heap heap) {
            long[] a = (long[]) heap.array();
            return offset -> a[(int) offset];
        }
        ByteBuffer bytes = hostBytes("toLongArray");
        return offset -> bytes.getLong((int) (offset * 8));
    }

    private ShortReader shortReader() {
        if (storage instanceof Storage.Heap heap) {
            short[] a = (short[]) heap.array();
            return offset -> a[(int) offset];
        }
        ByteBuffer bytes = hostBytes("toDirect");
        return offset -> bytes.getShort((int) (offset * 2));
    }

    /**
     * This tensor when its memory is on the host; else a host copy of the span of CUDA memory it
     * views, with the same shape and strides.
     */
    private Tensor onHost(String what) {
        if (device().isCpu()) {
            return this;
        }
        if (numel() == 0) {
            return allocateDirect(dtype, shape);
        }
        long es = dtype.byteSize();
        long first = offset + minOffset();
        long bytes = (offset + maxOffset() - first + 1) * es;
        ByteBuffer buffer = directBytes(bytes);
        long address = new Pointer(buffer).address();
        DeviceCopy.copy(address, ((Storage.Native) storage).liveAddress(what) + first * es, bytes, 0);
        Storage host = new Storage.Native(address, bytes, (int) es, Device.CPU, buffer);
        return new Tensor(host, dtype, shape, strides, offset - first, flat);
    }

    /** The elements, dense row-major, in a direct buffer (native byte order) at position 0. */
    private ByteBuffer denseBytes(String what) {
        Tensor host = onHost(what);
        // A dense view of CUDA memory came down as exactly its elements, in order.
        Tensor dense = host != this && isContiguous() ? host : host.toDirect();
        return (ByteBuffer) ((Storage.Native) dense.storage).owner();
    }

    /** Writes dense row-major elements into this tensor's memory. */
    private void writeDense(ByteBuffer bytes, String what) {
        if (isDenseNative()) {
            DeviceCopy.copy(nativeAddress(what), new Pointer(bytes).address(), byteSize(), 0);
            return;
        }
        if (!device().isCpu()) {
            throw new InvalidArgumentException(what + ": expected a dense destination in " + device() + " memory, got "
                    + "shape " + Arrays.toString(shape) + " with strides " + Arrays.toString(strides)
                    + "; copy into a dense tensor (Tensor.allocate)");
        }
        int es = dtype.byteSize();
        if (storage instanceof Storage.Heap heap) {
            Object a = heap.array();
            OffsetConsumer put = switch (dtype) {
                case FLOAT32 -> (i, at) -> ((float[]) a)[(int) at] = bytes.getFloat(i * 4);
                case FLOAT64 -> (i, at) -> ((double[]) a)[(int) at] = bytes.getDouble(i * 8);
                case BFLOAT16, FLOAT16 -> (i, at) -> ((short[]) a)[(int) at] = bytes.getShort(i * 2);
                case INT64 -> (i, at) -> ((long[]) a)[(int) at] = bytes.getLong(i * 8);
            };
            forEachOffset(put);
        } else {
            ByteBuffer view = hostBytes(what);
            forEachOffset((i, at) -> {
                for (int b = 0; b < es; b++) {
                    view.put((int) (at * es) + b, bytes.get(i * es + b));
                }
            });
        }
    }

    /** Dense native memory (host or CUDA), which a single byte copy reads or writes. */
    boolean isDenseNative() {
        return storage instanceof Storage.Native && isContiguous();
    }

    /** The address of the first element. */
    long nativeAddress(String what) {
        return ((Storage.Native) storage).liveAddress(what) + offset * dtype.byteSize();
    }

    /** The bytes of its elements: numel() times the dtype's size. */
    long byteSize() {
        return numel() * dtype.byteSize();
    }

    /** {to, from} with the same dtype and shape; a flat side takes the other's shape. */
    private static Tensor[] matched(String what, Tensor to, Tensor from) {
        if (to.dtype != from.dtype) {
            throw new InvalidArgumentException(what + ": expected a " + to.dtype + " tensor like the destination, got "
                    + from.dtype + "; convert on the host (toFloatArray, Tensor.bfloat16)");
        }
        if (!Arrays.equals(to.shape, from.shape)) {
            if (to.numel() != from.numel() || !(to.flat || from.flat)) {
                throw new InvalidArgumentException(what + ": expected the shape " + Arrays.toString(to.shape)
                        + " (" + to.numel() + " elements), got " + Arrays.toString(from.shape) + " ("
                        + from.numel() + " elements)");
            }
            if (from.flat) {
                from = from.reshape(to.shape);
            } else {
                to = to.reshape(from.shape);
            }
        }
        return new Tensor[] {to, from};
    }

    /** A flat tensor over a direct buffer of this tensor's dtype. */
    private Tensor flatOver(Buffer buffer) {
        Objects.requireNonNull(buffer, "buffer");
        if (buffer instanceof ByteBuffer b) {
            return of(b, dtype);
        } else if (buffer instanceof ShortBuffer b) {
            requireHalf(dtype);
            return of(b, dtype);
        }
        Tensor t = buffer instanceof FloatBuffer b ? of(b) : buffer instanceof DoubleBuffer b ? of(b)
                : buffer instanceof LongBuffer b ? of(b) : null;
        if (t == null) {
            throw new InvalidArgumentException("buffer: expected a Float-, Double-, Long-, Short- or ByteBuffer, got "
                    + buffer.getClass().getSimpleName());
        }
        requireDType("buffer copy", t.dtype);
        return t;
    }

    private void requireDType(String what, DType expected) {
        if (dtype != expected) {
            throw new InvalidArgumentException(what + ": expected a " + expected + " tensor, this one is " + dtype);
        }
    }

    /** A byte view of the native host memory this tensor spans. */
    private ByteBuffer hostBytes(String what) {
        Storage.Native nat = (Storage.Native) storage;
        if (!nat.device().isCpu()) {
            throw new InvalidArgumentException(what + ": expected a tensor in host memory, got one on " + nat.device()
                    + "; copy it to the host first");
        }
        long span = numel() == 0 ? 0 : (offset + maxOffset() + 1) * dtype.byteSize();
        if (span > Integer.MAX_VALUE) {
            throw new InvalidArgumentException(what + ": expected at most 2^31 - 1 bytes, got " + span);
        }
        return nat.view(0, span);
    }

    private long maxOffset() {
        long max = 0;
        for (int d = 0; d < shape.length; d++) {
            max += (shape[d] - 1) * Math.max(strides[d], 0);
        }
        return max;
    }

    private long minOffset() {
        long min = 0;
        for (int d = 0; d < shape.length; d++) {
            min += (shape[d] - 1) * Math.min(strides[d], 0);
        }
        return min;
    }

    /** Rejects shapes the C API cannot describe and views reaching outside known memory. */
    private void checkExtent() {
        if (shape.length > MAX_DIMS) {
            throw new InvalidArgumentException("shape: expected at most " + MAX_DIMS + " dimensions, got "
                    + Arrays.toString(shape));
        }
        requireSizes(shape);
        if (storage instanceof Storage.Native nat && nat.address() == 0) {
            throw new InvalidArgumentException("address: expected non-null memory, got 0");
        }
        if (numel() == 0) {
            return;
        }
        long capacity = storage.capacity();
        long min = offset + minOffset();
        long max = offset + maxOffset();
        if (min < 0 || (capacity >= 0 && max >= capacity)) {
            throw new InvalidArgumentException("shape " + Arrays.toString(shape) + " with strides "
                    + Arrays.toString(strides) + ": expected elements within [0, " + capacity + ") of the "
                    + (isHeap() ? "array" : "buffer") + ", got elements " + min + " to " + max);
        }
    }

    private static void requireSizes(long[] shape) {
        for (long s : shape) {
            if (s < 0) {
                throw new InvalidArgumentException("shape: expected sizes >= 0, got " + Arrays.toString(shape));
            }
        }
    }

    /** A new direct buffer of {@code bytes} (native byte order, zero-filled). */
    private static ByteBuffer directBytes(long bytes) {
        return ByteBuffer.allocateDirect(checkedArrayLength(bytes)).order(ByteOrder.nativeOrder());
    }

    static long[] contiguousStrides(long[] shape) {
        long[] strides = new long[shape.length];
        long stride = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            strides[d] = stride;
            stride *= Math.max(shape[d], 1);
        }
        return strides;
    }

    static long product(long[] shape) {
        long n = 1;
        for (long s : shape) {
            n = Math.multiplyExact(n, s);
        }
        return n;
    }

    private static int checkedArrayLength(long n) {
        if (n < 0 || n > Integer.MAX_VALUE - 8) {
            throw new InvalidArgumentException("size: expected at most " + (Integer.MAX_VALUE - 8)
                    + " elements for a Java array, got " + n + "; use native memory (a direct buffer or pointer)");
        }
        return (int) n;
    }

    private static void requireShape(long[] shape) {
        if (shape.length == 0) {
            throw new InvalidArgumentException("shape: expected at least one dimension, got none");
        }
    }

    private static void requireHalf(DType dtype) {
        if (dtype != DType.BFLOAT16 && dtype != DType.FLOAT16) {
            throw new InvalidArgumentException("dtype: expected BFLOAT16 or FLOAT16 for 16-bit data, got " + dtype);
        }
    }
}
