package dev.loglinear;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;

/**
 * The memory behind a {@link Tensor}: a Java array (copied to native memory for each call) or
 * native memory at an address (a direct buffer, a JavaCPP pointer, CUDA memory the library
 * allocated, or a raw address; used in place).
 */
sealed interface Storage permits Storage.Heap, Storage.Native {

    /** Capacity in elements, or -1 when unknown (a raw address). */
    long capacity();

    /** Where the memory lives. */
    Device device();

    /** A Java array: {@code float[]}, {@code double[]}, {@code short[]} (16-bit floats) or {@code long[]}. */
    record Heap(Object array) implements Storage {
        @Override
        public long capacity() {
            return java.lang.reflect.Array.getLength(array);
        }

        @Override
        public Device device() {
            return Device.CPU;
        }

        /** Copies the whole array into {@code bytes} (native byte order), from its position. */
        void putInto(ByteBuffer bytes) {
            if (array instanceof float[] a) {
                bytes.asFloatBuffer().put(a);
            } else if (array instanceof double[] a) {
                bytes.asDoubleBuffer().put(a);
            } else if (array instanceof short[] a) {
                bytes.asShortBuffer().put(a);
            } else {
                bytes.asLongBuffer().put((long[]) array);
            }
        }

        /** Copies as many elements as the array has from {@code bytes} back into it. */
        void getFrom(ByteBuffer bytes) {
            if (array instanceof float[] a) {
                bytes.asFloatBuffer().get(a);
            } else if (array instanceof double[] a) {
                bytes.asDoubleBuffer().get(a);
            } else if (array instanceof short[] a) {
                bytes.asShortBuffer().get(a);
            } else {
                bytes.asLongBuffer().get((long[]) array);
            }
        }
    }

    /**
     * Native memory at {@code address}, {@code byteCapacity} bytes long (-1: unknown), on
     * {@code device}; {@code owner} (a buffer or pointer) is held so that the memory outlives the
     * tensor.
     */
    record Native(long address, long byteCapacity, int elementSize, Device device, Object owner)
            implements Storage {
        @Override
        public long capacity() {
            return byteCapacity < 0 ? -1 : byteCapacity / elementSize;
        }

        /**
         * The address, or {@link IllegalStateException} naming {@code what} when it is CUDA memory
         * of a tensor that was closed.
         */
        long liveAddress(String what) {
            return owner instanceof NativeBuffer buffer ? buffer.address(what) : address;
        }

        /** A little-endian view of {@code bytes} bytes from {@code byteOffset}; host memory only. */
        ByteBuffer view(long byteOffset, long bytes) {
            BytePointer p = new BytePointer(new Address(liveAddress("reading a tensor") + byteOffset));
            return p.capacity(bytes).limit(bytes).asByteBuffer().order(ByteOrder.nativeOrder());
        }
    }

    /** A JavaCPP pointer to a raw address, to hand addresses to the generated bindings. */
    final class Address extends Pointer {
        Address(long address) {
            this.address = address;
        }
    }
}
