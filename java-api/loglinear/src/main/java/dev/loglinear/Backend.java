package dev.loglinear;

/** Where a call runs. */
public enum Backend {
    /** Follow the device of the tensors (host memory: CPU; CUDA memory: CUDA). */
    AUTO(0),
    /** The multi-threaded CPU backend, always built. */
    CPU(1),
    /** The CUDA backend; present in the {@code linux-x86_64-cuda} native build only. */
    CUDA(2);

    private final int code;

    Backend(int code) {
        this.code = code;
    }

    /** The {@code lla_backend} value of the C API. */
    int code() {
        return code;
    }
}
