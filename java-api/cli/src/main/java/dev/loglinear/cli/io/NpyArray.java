package dev.loglinear.cli.io;

import java.util.Arrays;

/**
 * A dense C-order array of doubles with its shape, as read from or written to a
 * NumPy {@code .npy} file.
 */
public record NpyArray(long[] shape, double[] data) {

    public NpyArray {
        long count = elementCount(shape);
        if (count != data.length) {
            throw new IllegalArgumentException("NpyArray: shape " + Arrays.toString(shape) + " holds "
                    + count + " elements but data has " + data.length);
        }
    }

    /** Number of elements of an array of this shape (1 for a scalar, shape {}). */
    public static long elementCount(long[] shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            }
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    public int rank() {
        return shape.length;
    }

    public long dim(int axis) {
        return shape[axis];
    }

    public String shapeString() {
        return Arrays.toString(shape);
    }
}
