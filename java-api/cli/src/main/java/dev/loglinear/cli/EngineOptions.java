package dev.loglinear.cli;

import dev.loglinear.Backend;
import dev.loglinear.LogLinear;
import dev.loglinear.LogLinearConfig;
import dev.loglinear.Variant;
import picocli.CommandLine.Option;

/** Where the commands compute: {@code --backend} and {@code --threads}, shared by every command. */
public final class EngineOptions {

    /** The backends a command can be asked for. */
    public enum BackendChoice { cpu, cuda }

    @Option(names = "--backend", defaultValue = "cpu", paramLabel = "cpu|cuda",
            description = "Backend to compute on (default: ${DEFAULT-VALUE}).")
    BackendChoice backend = BackendChoice.cpu;

    @Option(names = "--threads", defaultValue = "0", paramLabel = "N",
            description = "CPU worker threads; 0 = all hardware threads (default: ${DEFAULT-VALUE}).")
    int threads;

    public BackendChoice backend() {
        return backend;
    }

    public int threads() {
        return threads;
    }

    /**
     * A LogLinear for {@code variant} and {@code scale} on the chosen backend. The commands keep
     * their data in host memory, so CUDA needs device buffers this tool cannot allocate yet: that
     * is reported here, before any work, rather than as a failed call later.
     */
    public LogLinear create(Variant variant, double scale) {
        if (backend == BackendChoice.cuda) {
            if (!LogLinear.isAvailable(Backend.CUDA)) {
                throw new UnsupportedOperationException("--backend cuda: this libloglinear (" + LogLinear.version()
                        + ") has no usable CUDA backend (built without -DLLA_CUDA=ON, or no CUDA device); use --backend cpu");
            }
            throw new UnsupportedOperationException("--backend cuda: the CUDA backend is present, but the lla command "
                    + "keeps its data in host memory and the Java API cannot allocate CUDA memory yet; use "
                    + "LogLinear with Tensor.ofAddress(..., Device.cuda(0)) over device memory of your own");
        }
        return LogLinear.create(LogLinearConfig.builder()
                .variant(variant)
                .scale(scale)
                .backend(Backend.CPU)
                .threads(threads)
                .build());
    }

    /** How a run is described in headers: "cpu, 2 threads". */
    public String describe() {
        int n = threads == 0 ? Runtime.getRuntime().availableProcessors() : threads;
        return backend + ", " + n + (n == 1 ? " thread" : " threads");
    }
}
