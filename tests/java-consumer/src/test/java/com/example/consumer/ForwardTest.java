package com.example.consumer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.loglinear.AttentionInputs;
import dev.loglinear.AttentionShape;
import dev.loglinear.LogLinear;
import dev.loglinear.LogLinearConfig;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** What an application does with loglinear-platform: one forward call, checked by hand. */
class ForwardTest {
    @Test
    void forwardMatchesTheDefinition() {
        int t = 37, h = 2, k = 8, v = 4;
        AttentionShape shape = AttentionShape.of(1, t, h, 1, k, v);     // L = minLevels(37) = 7
        int levels = (int) shape.levels();
        Random random = new Random(7);
        double[] q = gaussian(random, t * k);
        double[] key = gaussian(random, t * k);
        double[] value = gaussian(random, t * h * v);
        double[] g = new double[t * h];
        double[] l = new double[t * h * levels];
        for (int i = 0; i < g.length; i++) {
            g[i] = -0.3 * random.nextDouble();
        }
        for (int i = 0; i < l.length; i++) {
            l[i] = 0.5 + random.nextDouble();
        }
        double scale = 0.25;

        LogLinear lla = LogLinear.create(LogLinearConfig.builder().scale(scale).build());
        double[] o = lla.forward(AttentionInputs.of(shape, q, key, value, g, l)).toDoubleArray();

        assertThat(LogLinear.version()).isNotBlank();
        assertThat(o).hasSize(t * h * v);
        double[] expected = materialized(t, h, k, v, levels, scale, q, key, value, g, l);
        double err = 0, norm = 0;
        for (int i = 0; i < o.length; i++) {
            err += (o[i] - expected[i]) * (o[i] - expected[i]);
            norm += expected[i] * expected[i];
        }
        assertThat(Math.sqrt(err / norm)).isLessThan(1e-10);
    }

    /** o_t = sum_{s<=t} l[t, lev(t,s)] exp(G_t - G_s) scale (q_t . k_s) v_s, one group (docs/math.md, section 3). */
    static double[] materialized(int t, int h, int k, int v, int levels, double scale, double[] q, double[] key,
                                 double[] value, double[] g, double[] l) {
        double[] o = new double[t * h * v];
        for (int head = 0; head < h; head++) {
            double[] cumulative = new double[t];
            for (int i = 0; i < t; i++) {
                cumulative[i] = (i == 0 ? 0 : cumulative[i - 1]) + g[i * h + head];
            }
            for (int i = 0; i < t; i++) {
                for (int s = 0; s <= i; s++) {
                    int level = s == i ? 0 : 32 - Integer.numberOfLeadingZeros(i ^ s);
                    double dot = 0;
                    for (int d = 0; d < k; d++) {
                        dot += q[i * k + d] * key[s * k + d];
                    }
                    double w = l[(i * h + head) * levels + level] * Math.exp(cumulative[i] - cumulative[s]) * scale * dot;
                    for (int d = 0; d < v; d++) {
                        o[(i * h + head) * v + d] += w * value[(s * h + head) * v + d];
                    }
                }
            }
        }
        return o;
    }

    static double[] gaussian(Random random, int n) {
        double[] x = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = random.nextGaussian();
        }
        return x;
    }
}
