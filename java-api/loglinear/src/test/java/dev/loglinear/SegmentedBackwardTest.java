package dev.loglinear;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static dev.loglinear.GoldenCasesTest.gradient;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Gradients that cross a saved state (the backward contract): a sequence split at {@code n},
 * forwarded in two calls through the exported state and backpropagated in reverse order with
 * {@code dInitialState} of the second call as {@code dFinalState} of the first, has the gradients
 * of a one-call backward, per gradient within the dtype's tolerance (float64 1e-10, float32 1e-5);
 * likewise chained over three segments, and from a nonzero initial state, whose own gradient
 * {@code dInitialState} also agrees. A finite-difference check judges {@code dInitialState} itself.
 */
class SegmentedBackwardTest {
    /** B = 2, T = 130, H = 4, G = 2 (grouped queries), K = 8, V = 4, L = minLevels(130) = 9. */
    static final AttentionShape SHAPE = AttentionShape.of(2, 130, 4, 2, 8, 4);
    static final LogLinear LLA = LogLinear.create(LogLinearConfig.builder().scale(0.5).build());
    static final String[] NAMES = {"dq", "dk", "dv", "dg", "dl"};

    static AttentionInputs inputs(Precision p, long seed) {
        return p == Precision.F64 ? RandomInputs.doubles(SHAPE, seed) : RandomInputs.floats(SHAPE, seed);
    }

    static Tensor upstream(Precision p, long[] shape, long seed) {
        float[] d = RandomInputs.gaussian(new Random(seed), Tensor.product(shape), 1.0);
        return p == Precision.F64 ? Tensor.of(Tensor.of(d, shape).toDoubleArray(), shape) : Tensor.of(d, shape);
    }

    /**
     * Splits at 1, around the chunk size 64, and at T - 1. Not at 0 or T: the library refuses a
     * call of zero tokens ({@link #aCallOfZeroTokensIsRefused}), so one segment would be no call.
     */
    static Stream<Arguments> splits() {
        long t = SHAPE.length();
        return Stream.of(Precision.values()).flatMap(p -> Stream.of(1L, 63L, 64L, 65L, t - 1)
                .map(n -> Arguments.of(p, n)));
    }

    @ParameterizedTest(name = "{0} split at {1}")
    @MethodSource("splits")
    void twoSegmentsThroughTheStateHaveTheOneCallGradients(Precision p, long n) {
        AttentionInputs all = inputs(p, 100 + n);
        Tensor dO = upstream(p, SHAPE.valueShape(), 200 + n);
        long t = SHAPE.length();
        Gradients whole = LLA.backward(all, dO);

        AttentionInputs head = GoldenCasesTest.window(all, 0, n);
        AttentionInputs tail = GoldenCasesTest.window(all, n, t);
        State state = LLA.forward(head, null, true).finalState().orElseThrow();
        assertThat(state.positionArray()).containsOnly(n);
        Gradients second = LLA.backward(tail, state, dO.slice(1, n, t));
        Tensor dState = second.dInitialState().orElseThrow();
        assertThat(dState.shape()).containsExactly(state.levels().shape());
        assertThat(dState.dtype()).isEqualTo(p.dtype);
        Gradients first = LLA.backward(head, null, dO.slice(1, 0, n), dState);
        assertThat(first.dInitialState()).isEmpty();

        for (String name : NAMES) {
            Errors.assertClose(p + " split at " + n + ": " + name, concat(gradient(first, name),
                    gradient(second, name)), gradient(whole, name).toDoubleArray(), p.tolerance);
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Precision.class)
    void threeSegmentsFromAStateWriteTheOneCallGradientsInPlace(Precision p) {
        // A nonzero initial state at position 37, then 130 tokens in segments [0, 45), [45, 64), [64, 130).
        State start = LLA.forward(window(inputs(p, 7), 37), null, true).finalState().orElseThrow();
        AttentionInputs all = inputs(p, 8);
        Tensor dO = upstream(p, SHAPE.valueShape(), 9);
        Tensor dFinal = upstream(p, SHAPE.stateShape(AttentionShape.levelsForPosition(37 + 130)), 10);
        Gradients whole = LLA.backward(all, start, dO, dFinal);

        long[] bounds = {0, 45, 64, SHAPE.length()};
        List<State> initial = new ArrayList<>(List.of(start));
        for (int s = 0; s < 2; s++) {
            AttentionInputs segment = GoldenCasesTest.window(all, bounds[s], bounds[s + 1]);
            initial.add(LLA.forward(segment, initial.get(s), true).finalState().orElseThrow());
        }
        // Backward in reverse order, each segment writing its rows of full-length gradient arrays.
        Gradients chained = Gradients.of(Tensor.zeros(p.dtype, SHAPE.queryShape()),
                Tensor.zeros(p.dtype, SHAPE.queryShape()), Tensor.zeros(p.dtype, SHAPE.valueShape()),
                Tensor.zeros(p.dtype, SHAPE.gateShape()), Tensor.zeros(p.dtype, SHAPE.levelScaleShape()));
        Tensor dState = dFinal;
        for (int s = 2; s >= 0; s--) {
            long from = bounds[s], to = bounds[s + 1];
            State init = initial.get(s);
            Tensor dInit = Tensor.zeros(p.dtype, init.levels().shape());
            Gradients rows = Gradients.of(chained.dq().slice(1, from, to), chained.dk().slice(1, from, to),
                    chained.dv().slice(1, from, to), chained.dg().slice(1, from, to),
                    chained.dl().slice(1, from, to)).withDInitialState(dInit);
            LLA.backwardInto(GoldenCasesTest.window(all, from, to), init, dO.slice(1, from, to), dState, rows);
            dState = dInit;
        }
        for (String name : NAMES) {
            Errors.assertClose(p + " three segments: " + name, gradient(chained, name),
                    gradient(whole, name).toDoubleArray(), p.tolerance);
        }
        Errors.assertClose(p + " three segments: dInitialState", dState,
                whole.dInitialState().orElseThrow().toDoubleArray(), p.tolerance);
    }

    @Test
    void aCallOfZeroTokensIsRefused() {
        AttentionInputs none = GoldenCasesTest.window(inputs(Precision.F64, 14), 0, 0);
        State state = State.zeros(2, 4, 9, 8, 4, DType.FLOAT64);
        Tensor dO = Tensor.zeros(DType.FLOAT64, none.shape().valueShape());
        assertThatThrownBy(() -> LLA.backward(none, state, dO, null))
                .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("q.shape[1] must be >= 1, got 0");
        assertThatThrownBy(() -> LLA.forward(none, null, true))
                .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("q.shape[1] must be >= 1, got 0");
    }

    @Test
    void theThreeArgumentBackwardAlsoReturnsTheInitialStateGradient() {
        State start = LLA.forward(window(inputs(Precision.F64, 11), 5), null, true).finalState().orElseThrow();
        AttentionInputs in = inputs(Precision.F64, 12);
        Tensor dO = upstream(Precision.F64, SHAPE.valueShape(), 13);
        Gradients three = LLA.backward(in, start, dO);
        Gradients four = LLA.backward(in, start, dO, null);
        assertThat(three.dInitialState().orElseThrow().toDoubleArray())
                .containsExactly(four.dInitialState().orElseThrow().toDoubleArray());
        assertThat(LLA.backward(in, dO).dInitialState()).isEmpty();
        assertThat(three.dInitialState().orElseThrow().isHeap()).as("like the state's Java arrays").isTrue();

        // Allocated like the state's levels: a state in direct buffers gets a direct dInitialState.
        State direct = State.allocateDirect(2, 4, start.stateLevels(), 8, 4, DType.FLOAT64);
        LLA.forwardInto(window(inputs(Precision.F64, 11), 5), null,
                Tensor.zeros(DType.FLOAT64, 2, 5, 4, 4), direct);
        Tensor fromDirect = LLA.backward(in, direct, dO).dInitialState().orElseThrow();
        assertThat(fromDirect.isHeap()).isFalse();
        assertThat(fromDirect.shape()).containsExactly(direct.levels().shape());
        assertThat(fromDirect.toDoubleArray()).containsExactly(four.dInitialState().orElseThrow().toDoubleArray());

        // A zero dFinalState is the same as none.
        Tensor zero = Tensor.zeros(DType.FLOAT64, SHAPE.stateShape(AttentionShape.levelsForPosition(5 + 130)));
        assertThat(LLA.backward(in, start, dO, zero).dg().toDoubleArray()).containsExactly(four.dg().toDoubleArray());
    }

    @Test
    void initialStateGradientMatchesFiniteDifferences() {
        // float64, small: 1 sequence at position 37, 20 more tokens (positions up to 56: 7 levels).
        AttentionShape shape = AttentionShape.of(1, 20, 2, 1, 4, 3, 7);
        AttentionShape prefixShape = AttentionShape.of(1, 37, 2, 1, 4, 3);
        LogLinear lla = LogLinear.create(LogLinearConfig.builder().scale(0.7).build());
        State start = lla.forward(RandomInputs.doubles(prefixShape, 21), null, true).finalState().orElseThrow();
        AttentionInputs in = RandomInputs.doubles(shape, 22);
        long finalLevels = AttentionShape.levelsForPosition(37 + 20);
        double[] dO = upstream(Precision.F64, shape.valueShape(), 23).toDoubleArray();
        double[] dFinal = upstream(Precision.F64, shape.stateShape(finalLevels), 24).toDoubleArray();
        double[] levels = start.levels().toDoubleArray();
        long[] stateShape = start.levels().shape();

        double[] grad = lla.backward(in, start, Tensor.of(dO, shape.valueShape()), Tensor.of(dFinal,
                shape.stateShape(finalLevels))).dInitialState().orElseThrow().toDoubleArray();

        int perLevel = (int) (stateShape[3] * stateShape[4]);
        Random r = new Random(25);
        int checked = 0;
        double worst = 0;
        for (int i = 0; i < levels.length; i++) {
            int level = (int) ((i / perLevel) % stateShape[2]);
            boolean nonempty = Arrays.stream(levels, i - i % perLevel, i - i % perLevel + perLevel).anyMatch(x -> x != 0);
            if (!nonempty) {
                assertThat(grad[i]).as("gradient of empty level %d, entry %d", level, i).isZero();
                continue;
            }
            if (r.nextInt(4) != 0) {
                continue;  // a quarter of the nonempty entries is plenty
            }
            double h = 1e-3;
            double[] plus = levels.clone(), minus = levels.clone();
            plus[i] += h;
            minus[i] -= h;
            double fd = (loss(lla, in, plus, stateShape, dO, dFinal, finalLevels)
                    - loss(lla, in, minus, stateShape, dO, dFinal, finalLevels)) / (2 * h);
            worst = Math.max(worst, Math.abs(fd - grad[i]) / Math.max(1, Math.abs(fd)));
            checked++;
        }
        assertThat(checked).isGreaterThan(10);
        // The loss is linear in the state, so central differences are exact up to rounding.
        assertThat(worst).as("worst |fd - dInitialState| / max(1, |fd|) over %d entries", checked)
                .isLessThanOrEqualTo(1e-8);
    }

    /** sum(dO * o) + sum(dFinal * finalState) of a forward from the canonical state {@code levels} at 37. */
    private static double loss(LogLinear lla, AttentionInputs in, double[] levels, long[] stateShape, double[] dO,
                               double[] dFinal, long finalLevels) {
        State initial = State.of(Tensor.of(levels, stateShape), 37);
        ForwardResult r = lla.forward(in, initial, true);
        double[] o = r.output().toDoubleArray();
        State fin = r.finalState().orElseThrow();
        assertThat(fin.stateLevels()).isEqualTo(finalLevels);
        double[] f = fin.levels().toDoubleArray();
        double sum = 0;
        for (int i = 0; i < o.length; i++) {
            sum += dO[i] * o[i];
        }
        for (int i = 0; i < f.length; i++) {
            sum += dFinal[i] * f[i];
        }
        return sum;
    }

    /** The first {@code n} tokens of fresh inputs of {@link #SHAPE}'s sizes (a prefix to make a state). */
    private static AttentionInputs window(AttentionInputs in, long n) {
        return GoldenCasesTest.window(in, 0, n);
    }

    /** {@code a} and {@code b} ({@code [B, Ta, ...]}, {@code [B, Tb, ...]}) concatenated along T. */
    static Tensor concat(Tensor a, Tensor b) {
        long[] sa = a.shape(), sb = b.shape();
        long[] shape = sa.clone();
        shape[1] = sa[1] + sb[1];
        double[] x = a.toDoubleArray(), y = b.toDoubleArray(), out = new double[x.length + y.length];
        int rowsA = x.length / (int) sa[0], rowsB = y.length / (int) sb[0];
        for (int batch = 0; batch < sa[0]; batch++) {
            System.arraycopy(x, batch * rowsA, out, batch * (rowsA + rowsB), rowsA);
            System.arraycopy(y, batch * rowsB, out, batch * (rowsA + rowsB) + rowsA, rowsB);
        }
        return Tensor.of(out, shape);
    }
}
