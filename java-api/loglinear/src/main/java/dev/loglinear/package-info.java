/**
 * Log-linear attention (Guo, Yang, Goel, Xing, Dao, Kim, 2025) for Java: forward, backward and
 * token-by-token decoding over Java arrays, direct NIO buffers, JavaCPP pointers and raw host or
 * CUDA addresses, on the native loglinear library.
 *
 * <h2>Getting it</h2>
 * Declare one dependency; it brings this API, the JavaCPP bindings and the native library of
 * your platform ({@code -Djavacpp.platform.extension=-cuda} picks the CUDA build):
 * <pre>{@code
 * <dependency>
 *   <groupId>dev.loglinear</groupId>
 *   <artifactId>loglinear-platform</artifactId>
 *   <version>0.1.0-SNAPSHOT</version>
 * </dependency>
 * }</pre>
 *
 * <h2>Example</h2>
 * A complete program: forward and backward of log-linear Mamba-2 over one sequence of 1024
 * tokens, then generation after it.
 * <pre>{@code
 * import dev.loglinear.*;
 * import java.util.Random;
 *
 * public class Example {
 *     public static void main(String[] args) {
 *         long B = 1, T = 1024, H = 4, G = 1, K = 64, V = 64;
 *         AttentionShape shape = AttentionShape.of(B, T, H, G, K, V);   // L = minLevels(T) = 11
 *         Random random = new Random(42);
 *         float[] q = gaussian(random, B * T * G * K, 0.1);
 *         float[] k = gaussian(random, B * T * G * K, 0.1);
 *         float[] v = gaussian(random, B * T * H * V, 1.0);
 *         float[] g = new float[(int) (B * T * H)];
 *         java.util.Arrays.fill(g, -0.05f);                          // log decay per token
 *         float[] l = new float[(int) (B * T * H * shape.levels())];
 *         java.util.Arrays.fill(l, 1f);                              // level scales (1: linear Mamba-2)
 *
 *         LogLinear lla = LogLinear.create(LogLinearConfig.builder().scale(1 / Math.sqrt(K)).build());
 *         AttentionInputs in = AttentionInputs.of(shape, q, k, v, g, l);
 *
 *         float[] o = lla.forward(in).toFloatArray();                // [B, T, H, V]
 *         Gradients grads = lla.backward(in, Tensor.of(o));         // dLoss/do = o: loss = |o|^2 / 2
 *         System.out.println("o[0] = " + o[0] + ", dq[0] = " + grads.dq().toFloatArray()[0]);
 *
 *         // Prefill the prompt into a decoding state, then generate 16 more tokens.
 *         long levels = AttentionShape.levelsForPosition(T + 16);  // enough for every position reached
 *         AttentionShape step = AttentionShape.token(B, H, G, K, V, levels);
 *         try (DecodeState state = lla.newDecodeState(step, DType.FLOAT32)) {
 *             state.prefill(in);
 *             for (int i = 0; i < 16; i++) {
 *                 float[] lt = new float[(int) (B * H * levels)];
 *                 java.util.Arrays.fill(lt, 1f);
 *                 AttentionInputs token = AttentionInputs.of(step,
 *                         gaussian(random, B * G * K, 0.1), gaussian(random, B * G * K, 0.1),
 *                         gaussian(random, B * H * V, 1.0), new float[(int) (B * H)], lt);
 *                 float[] out = state.step(token).toFloatArray();      // [B, H, V]
 *             }
 *             System.out.println("positions " + java.util.Arrays.toString(state.positions()));
 *         }
 *     }
 *
 *     static float[] gaussian(Random random, long n, double sigma) {
 *         float[] x = new float[(int) n];
 *         for (int i = 0; i < x.length; i++) {
 *             x[i] = (float) (sigma * random.nextGaussian());
 *         }
 *         return x;
 *     }
 * }
 * }</pre>
 *
 * <h2>Long sequences in segments</h2>
 * A forward continues from a {@link dev.loglinear.State} and can export the state after its last
 * token, so a sequence too long for one call is processed in segments. The backward carries the
 * state's gradient the other way:
 * {@link dev.loglinear.LogLinear#backward(AttentionInputs, State, Tensor, Tensor)
 * backward(in, initialState, dO, dFinalState)} takes dLoss/d of the exported state
 * ({@code dFinalState}, null for none) and returns, besides the input gradients,
 * {@link dev.loglinear.Gradients#dInitialState()}, dLoss/d of the initial state. Forward the
 * segments in order keeping each initial state, then backward them in reverse order, handing each
 * segment's {@code dInitialState} to the previous one as its {@code dFinalState}: every token's
 * gradients equal those of one call over the whole sequence, to rounding.
 *
 * <h2>The types</h2>
 * <ul>
 * <li>{@link dev.loglinear.LogLinear}: the operations, under a {@link dev.loglinear.LogLinearConfig}
 *     (variant, scale, backend, math mode, threads).</li>
 * <li>{@link dev.loglinear.AttentionShape}: {@code B, T, H, G, K, V, L} and optional
 *     {@code cu_seqlens}; every tensor's shape follows from it.</li>
 * <li>{@link dev.loglinear.Tensor}: typed, shaped, strided views of memory;
 *     {@link dev.loglinear.AttentionInputs} groups {@code q, k, v, g, l, beta}.</li>
 * <li>{@link dev.loglinear.ForwardResult}, {@link dev.loglinear.Gradients}: results.</li>
 * <li>{@link dev.loglinear.State}: the recurrent state in the canonical layout;
 *     {@link dev.loglinear.DecodeState}: a batch of sequences being generated.</li>
 * <li>{@link dev.loglinear.LogLinearException} and its subclasses: failures, with the native
 *     library's message.</li>
 * </ul>
 *
 * <h2>Memory and copies</h2>
 * Java arrays are copied into native memory for each call (and outputs back after it succeeds);
 * direct buffers, JavaCPP pointers and raw addresses are read and written in place. For large
 * tensors or hot loops, use direct buffers.
 *
 * <h2>Thread safety</h2>
 * The native library is reentrant and keeps its error messages per thread. {@code LogLinear},
 * {@code LogLinearConfig}, {@code AttentionShape}, {@code AttentionInputs}, {@code Tensor},
 * {@code State}, {@code ForwardResult} and {@code Gradients} are immutable objects and may be
 * shared between threads; the memory tensors view is not synchronized, so calls that write the
 * same memory must not overlap. A {@code DecodeState} is used by one thread at a time.
 */
package dev.loglinear;
