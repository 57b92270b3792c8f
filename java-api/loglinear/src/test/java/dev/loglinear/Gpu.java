package dev.loglinear;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The GPU of the tests that need one: {@code cuda:0}, skipped cleanly where there is none. */
final class Gpu {
    static final Device DEVICE = Device.cuda(0);

    private Gpu() {
    }

    static boolean present() {
        return Device.cudaDeviceCount() > 0;
    }

    /** Skips the calling test without a usable CUDA device (no CUDA build, no GPU, no driver). */
    static void assume() {
        assumeTrue(present(), "no usable CUDA device (loglinear " + LogLinear.version() + ")");
    }

    /** {@code config} on the CUDA backend; float32 without TF32, so that float32 tolerances hold. */
    static LogLinearConfig exact(LogLinearConfig config) {
        return config.toBuilder().backend(Backend.CUDA).mathMode(MathMode.EXACT_FP32).build();
    }

    /** The inputs copied to the GPU (close them with {@link #close}). */
    static AttentionInputs onGpu(AttentionInputs in) {
        AttentionInputs d = AttentionInputs.of(in.shape(), in.q().to(DEVICE), in.k().to(DEVICE), in.v().to(DEVICE),
                in.g().to(DEVICE), in.l().to(DEVICE));
        return in.beta().isPresent() ? d.withBeta(in.beta().get().to(DEVICE)) : d;
    }

    static void close(AttentionInputs in) {
        for (Tensor t : new Tensor[] {in.q(), in.k(), in.v(), in.g(), in.l()}) {
            t.close();
        }
        in.beta().ifPresent(Tensor::close);
    }
}
