package dev.loglinear.cli.demo;

import static org.assertj.core.api.Assertions.assertThat;

import dev.loglinear.cli.compute.ComputeDType;
import org.junit.jupiter.api.Test;

/** The segments of the demo's phase 5 and the tolerance its dg check uses. */
class DemoSegmentsTest {
    @Test
    void segmentsCoverTheSequenceInIncreasingNonemptyPieces() {
        for (int length : new int[] {2, 3, 4, 5, 7, 44, 45, 100, 3000, 65536}) {
            int count = Math.min(4, length);
            long[] bounds = Demo.segmentBounds(length, count);
            assertThat(bounds).hasSize(count + 1).startsWith(0).endsWith(length);
            for (int i = 0; i < count; i++) {
                assertThat(bounds[i + 1]).as("T = %d, segment %d", length, i).isGreaterThan(bounds[i]);
            }
        }
        // Off the chunk grid: 65,536 tokens start their segments at odd offsets from the quarters.
        assertThat(Demo.segmentBounds(65536, 4)).containsExactly(0, 16395, 32790, 49185, 65536);
    }

    @Test
    void decayGradientToleranceGrowsWithTheLengthInFloat32Only() {
        assertThat(Demo.decayGradientTolerance(ComputeDType.F32, 1024)).isEqualTo(1e-5);
        assertThat(Demo.decayGradientTolerance(ComputeDType.F32, 100)).isEqualTo(1e-5);
        assertThat(Demo.decayGradientTolerance(ComputeDType.F32, 65536)).isEqualTo(8e-5);
        assertThat(Demo.decayGradientTolerance(ComputeDType.F64, 65536)).isEqualTo(1e-10);
        assertThat(Demo.decayGradientTolerance(ComputeDType.BF16, 65536)).isEqualTo(1e-2);
    }
}
