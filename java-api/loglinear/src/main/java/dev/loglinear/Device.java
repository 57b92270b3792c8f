package dev.loglinear;

/**
 * Where the memory of a {@link Tensor} lives: the host ({@link #CPU}) or one CUDA device.
 *
 * @param kind  host or CUDA memory
 * @param index the CUDA device ordinal; 0 for the host
 */
public record Device(Kind kind, int index) {
    /** Kinds of memory. */
    public enum Kind {
        /** Host memory. */
        CPU(0),
        /** Memory of a CUDA device. */
        CUDA(1);

        private final int code;

        Kind(int code) {
            this.code = code;
        }

        /** The {@code lla_device_type} value of the C API. */
        int code() {
            return code;
        }
    }

    /** Host memory. */
    public static final Device CPU = new Device(Kind.CPU, 0);

    /** Validates the ordinal: non-negative, and 0 for the host. */
    public Device {
        if (kind == null) {
            throw new InvalidArgumentException("device kind: expected CPU or CUDA, got null");
        }
        if (index < 0 || (kind == Kind.CPU && index != 0)) {
            throw new InvalidArgumentException("device index: expected " + (kind == Kind.CPU ? "0 for the host" : ">= 0")
                    + ", got " + index);
        }
    }

    /** Memory of CUDA device {@code ordinal}. */
    public static Device cuda(int ordinal) {
        return new Device(Kind.CUDA, ordinal);
    }

    /**
     * The CUDA devices the loaded library can use: 0 for a build without the CUDA backend
     * (classifier {@code linux-x86_64}), or a machine without a GPU or driver.
     */
    public static int cudaDeviceCount() {
        return dev.loglinear.presets.global.loglinear.lla_cuda_device_count();
    }

    /** Whether this is host memory. */
    public boolean isCpu() {
        return kind == Kind.CPU;
    }

    @Override
    public String toString() {
        return kind == Kind.CPU ? "cpu" : "cuda:" + index;
    }
}
