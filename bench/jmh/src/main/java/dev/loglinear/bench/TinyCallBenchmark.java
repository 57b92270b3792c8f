package dev.loglinear.bench;

import dev.loglinear.AttentionInputs;
import dev.loglinear.AttentionShape;
import dev.loglinear.Backend;
import dev.loglinear.DType;
import dev.loglinear.DecodeState;
import dev.loglinear.LogLinear;
import dev.loglinear.LogLinearConfig;
import dev.loglinear.Tensor;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The fixed cost of one call into libloglinear from Java: a forward over a single token
 * (T = 1, H = 1, K = V = 4, float32), where the arithmetic is a few dozen flops and the time
 * is JNI, argument marshalling, validation and (for arrays) copies.
 *
 * <ul>
 * <li>{@code forwardArrays}: inputs and output in {@code float[]}: copied to native memory and
 *     the output back, per call.</li>
 * <li>{@code forwardDirectBuffers}: inputs and output in direct buffers: used in place.</li>
 * <li>{@code forwardArraysNewOutput}: {@link LogLinear#forward(AttentionInputs)}, which also
 *     allocates the output array.</li>
 * <li>{@code decodeStepDirectBuffers}: one decode step on the same sizes.</li>
 * <li>{@code jniBaseline}: {@code lla_backend_available}, a JNI call that does nothing, for
 *     the floor of any crossing.</li>
 * </ul>
 *
 * One CPU worker thread, so the numbers are the call's own, not a thread pool's wake-up.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Thread)
public class TinyCallBenchmark {
    private static final int T = 1, H = 1, G = 1, K = 4, V = 4;

    private LogLinear lla;
    private AttentionInputs arrays;
    private Tensor arrayOutput;
    private AttentionInputs direct;
    private Tensor directOutput;
    private AttentionInputs token;
    private Tensor tokenOutput;
    private DecodeState decodeState;

    @Setup(Level.Trial)
    public void setUp() {
        lla = LogLinear.create(LogLinearConfig.builder().backend(Backend.CPU).threads(1).build());
        AttentionShape shape = AttentionShape.of(1, T, H, G, K, V); // L = 1 level for one token
        Random r = new Random(42);
        float[] q = random(r, T * G * K), k = random(r, T * G * K), v = random(r, T * H * V);
        float[] g = {-0.05f}, l = {1.0f};
        arrays = AttentionInputs.of(shape, q, k, v, g, l);
        arrayOutput = Tensor.of(new float[T * H * V], shape.valueShape());
        direct = AttentionInputs.of(shape, Tensor.of(q, shape.queryShape()).toDirect(),
                Tensor.of(k, shape.queryShape()).toDirect(), Tensor.of(v, shape.valueShape()).toDirect(),
                Tensor.of(g, shape.gateShape()).toDirect(), Tensor.of(l, shape.levelScaleShape()).toDirect());
        directOutput = Tensor.allocateDirect(DType.FLOAT32, shape.valueShape());

        // Decode: 31 state levels (2^30 positions) and l with as many, so the state never runs out.
        int levels = 31;
        AttentionShape one = AttentionShape.token(1, H, G, K, V, levels);
        float[] lTok = new float[H * levels];
        java.util.Arrays.fill(lTok, 1.0f);
        token = AttentionInputs.of(one, Tensor.of(q, 1, 1, G, K).toDirect(), Tensor.of(k, 1, 1, G, K).toDirect(),
                Tensor.of(v, 1, 1, H, V).toDirect(), Tensor.of(g, 1, 1, H).toDirect(),
                Tensor.of(lTok, 1, 1, H, levels).toDirect());
        tokenOutput = Tensor.allocateDirect(DType.FLOAT32, 1, H, V);
        decodeState = lla.newDecodeState(1, H, levels, K, V, DType.FLOAT32);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        decodeState.close();
    }

    /** Keeps the decode state's position low, so every iteration steps over the same level counts. */
    @Setup(Level.Iteration)
    public void resetDecodeState() {
        decodeState.reset();
    }

    @Benchmark
    public Tensor forwardArrays() {
        lla.forwardInto(arrays, null, arrayOutput, null);
        return arrayOutput;
    }

    @Benchmark
    public Tensor forwardDirectBuffers() {
        lla.forwardInto(direct, null, directOutput, null);
        return directOutput;
    }

    @Benchmark
    public Tensor forwardArraysNewOutput() {
        return lla.forward(arrays);
    }

    @Benchmark
    public Tensor decodeStepDirectBuffers() {
        decodeState.stepInto(token, tokenOutput);
        return tokenOutput;
    }

    @Benchmark
    public boolean jniBaseline() {
        return LogLinear.isAvailable(Backend.CPU);
    }

    private static float[] random(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) r.nextGaussian();
        }
        return a;
    }
}
