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
 * </ul>
 *
 * <p>Shapes and strides are counted in elements. A tensor made without a shape is <em>flat</em>:
 * one dimension covering the whole array or buffer, which {@link AttentionInputs} reshapes to the
 * shape its role has in an {@link AttentionShape}. Views are bounds-checked against the array,
 * buffer or pointer they come from when they are made; a raw address cannot be checked and is
 * the caller's responsibility.
 */
public final class Tensor {
    /** Dimensions a tensor may have ({@code LLA_MAX_DIMS}). */
    public static final int MAX_DIMS = 5;

    private final Storage storage;
    private final DType dtype;
    private final long[] shape;
    private final long[] strides;
    private final long offset;
    private final boolean flat;

    private Tensor(Storage storage, DType dtype, long[] shape, long[] strides, long offset, boolean flat) {
        this.storage = storage;
        this.dtype = dtype;
        this.shape = shape;
        this.strides = strides;
        this.offset = offset;
        this.flat = flat;
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
        long bytes = product(shape) * dtype.byteSize();
        ByteBuffer buffer = ByteBuffer.allocateDirect(checkedArrayLength(bytes)).order(ByteOrder.nativeOrder());
        return of(buffer, dtype, shape);
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
        return Arrays.equals(strides, contiguousStrides(shape)) || numel() <= 1;
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

    /** The elements in row-major order as float32 (converting other floating dtypes); host memory only. */
    public float[] toFloatArray() {
        float[] out = new float[checkedArrayLength(numel())];
        ElementReader reader = reader("toFloatArray");
        forEachOffset((i, offset) -> out[i] = (float) reader.read(offset));
        return out;
    }

    /** The elements in row-major order as float64 (converting other floating dtypes); host memory only. */
    public double[] toDoubleArray() {
        double[] out = new double[checkedArrayLength(numel())];
        ElementReader reader = reader("toDoubleArray");
        forEachOffset((i, offset) -> out[i] = reader.read(offset));
        return out;
    }

    /** The elements in row-major order of an {@link DType#INT64} tensor; host memory only. */
    public long[] toLongArray() {
        if (dtype != DType.INT64) {
            throw new InvalidArgumentException("toLongArray: expected an INT64 tensor, got " + dtype);
        }
        long[] out = new long[checkedArrayLength(numel())];
        LongReader reader = longReader();
        forEachOffset((i, offset) -> out[i] = reader.read(offset));
        return out;
    }

    /**
     * A copy of this host tensor in a new direct buffer, dense row-major: native memory that every
     * call then uses in place.
     */
    public Tensor toDirect() {
        Tensor copy = allocateDirect(dtype, shape);
        ByteBuffer bytes = (ByteBuffer) ((Storage.Native) copy.storage).owner();
        switch (dtype) {
            case FLOAT32 -> bytes.asFloatBuffer().put(toFloatArray());
            case FLOAT64 -> bytes.asDoubleBuffer().put(toDoubleArray());
            case INT64 -> bytes.asLongBuffer().put(toLongArray());
            case BFLOAT16, FLOAT16 -> {
                ShortReader reader = shortReader();
                forEachOffset((i, at) -> bytes.putShort(i * 2, reader.read(at)));
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
        for (long s : shape) {
            if (s < 0) {
                throw new InvalidArgumentException("shape: expected sizes >= 0, got " + Arrays.toString(shape));
            }
        }
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
