package dev.loglinear.cli;

import dev.loglinear.Backend;
import dev.loglinear.Device;
import dev.loglinear.LogLinear;
import dev.loglinear.LogLinearConfig;
import dev.loglinear.MathMode;
import dev.loglinear.Tensor;
import dev.loglinear.Variant;
import picocli.CommandLine.Option;

/**
 * Where the commands compute: {@code --backend}, {@code --device} and {@code --threads}, shared by
 * every command. The commands make their data on the host; on CUDA they copy it to the device
 * once ({@link #place}) and compute there.
 */
public final class EngineOptions {

    /** The backends a command can be asked for. */
    public enum BackendChoice { cpu, cuda }

    @Option(names = "--backend", defaultValue = "cpu", paramLabel = "cpu|cuda",
            description = "Backend to compute on (default: ${DEFAULT-VALUE}).")
    BackendChoice backend = BackendChoice.cpu;

    @Option(names = "--device", defaultValue = "0", paramLabel = "N",
            description = "CUDA device ordinal for --backend cuda (default: ${DEFAULT-VALUE}).")
    int deviceIndex;

    @Option(names = "--threads", defaultValue = "0", paramLabel = "N",
            description = "CPU worker threads; 0 = all hardware threads (default: ${DEFAULT-VALUE}).")
    int threads;

    public BackendChoice backend() {
        return backend;
    }

    public boolean onCuda() {
        return backend == BackendChoice.cuda;
    }

    public int threads() {
        return threads;
    }

    /** The memory the command's tensors live in: the host, or the chosen CUDA device. */
    public Device device() {
        return onCuda() ? Device.cuda(deviceIndex) : Device.CPU;
    }

    /**
     * A LogLinear for {@code variant} and {@code scale} on the chosen backend, with {@code math}
     * (which only the CUDA backend distinguishes). A missing CUDA backend or device is reported
     * here, before any work, with what to do instead.
     */
    public LogLinear create(Variant variant, double scale, MathMode math) {
        if (onCuda()) {
            int count = Device.cudaDeviceCount();
            if (count == 0) {
                throw new UnsupportedOperationException("--backend cuda: this libloglinear (" + LogLinear.version()
                        + ") has no usable CUDA backend (built without -DLLA_CUDA=ON, or no CUDA device); use "
                        + "--backend cpu, or the linux-x86_64-cuda classifier on a machine with a GPU");
            }
            if (deviceIndex < 0 || deviceIndex >= count) {
                throw new IllegalArgumentException("--device: expected a CUDA ordinal in 0.." + (count - 1)
                        + " on this machine, got " + deviceIndex);
            }
        }
        return LogLinear.create(LogLinearConfig.builder()
                .variant(variant)
                .scale(scale)
                .backend(onCuda() ? Backend.CUDA : Backend.CPU)
                .mathMode(math)
                .threads(threads)
                .build());
    }

    /** {@link #create(Variant, double, MathMode)} with the backend's default math. */
    public LogLinear create(Variant variant, double scale) {
        return create(variant, scale, MathMode.DEFAULT);
    }

    /** The CPU engine of the same settings: float64 references, which the CUDA backend does not compute. */
    public LogLinear cpu(Variant variant, double scale) {
        return LogLinear.create(LogLinearConfig.builder().variant(variant).scale(scale).backend(Backend.CPU)
                .threads(threads).build());
    }

    /**
     * {@code host} where the command computes: itself on the CPU, a copy on the CUDA device
     * (which the caller closes) on CUDA.
     */
    public Tensor place(Tensor host) {
        return onCuda() ? host.to(device()) : host;
    }

    /** How a run is described in headers: "cpu, 2 threads" or "cuda:0". */
    public String describe() {
        if (onCuda()) {
            return device().toString();
        }
        int n = threads == 0 ? Runtime.getRuntime().availableProcessors() : threads;
        return backend + ", " + n + (n == 1 ? " thread" : " threads");
    }
}
