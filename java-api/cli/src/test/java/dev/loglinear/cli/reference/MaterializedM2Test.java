package dev.loglinear.cli.reference;

import static org.assertj.core.api.Assertions.assertThat;

import dev.loglinear.cli.GoldenData;
import dev.loglinear.cli.io.GoldenCase;
import java.io.IOException;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The demo's Java reference must itself reproduce the golden cases it can express. */
class MaterializedM2Test {

    static Stream<Path> plainM2Cases() {
        // The reference covers [B, T] batches from position 0; packed sequences are the library's job.
        return GoldenData.cases("m2_").stream().filter(p -> !p.getFileName().toString().equals("m2_varlen"));
    }

    @ParameterizedTest
    @MethodSource("plainM2Cases")
    void reproducesGoldenOutputsAndGradients(Path dir) throws IOException {
        GoldenCase c = GoldenCase.load(dir);
        long[] q = c.shape("q"), v = c.shape("v"), l = c.shape("l");
        M2Problem p = new M2Problem((int) q[0], (int) q[1], (int) v[2], (int) q[2], (int) q[3], (int) v[3], (int) l[3],
                c.scale(), c.read("q").data(), c.read("k").data(), c.read("v").data(), c.read("g").data(),
                c.read("l").data());
        assertThat(Errors.relative(MaterializedM2.forward(p), c.read("o").data())).isLessThan(1e-12);
        MaterializedM2.Gradients d = MaterializedM2.backward(p, c.read("do").data());
        assertThat(Errors.relative(d.dq(), c.read("dq").data())).as("dq").isLessThan(1e-12);
        assertThat(Errors.relative(d.dk(), c.read("dk").data())).as("dk").isLessThan(1e-12);
        assertThat(Errors.relative(d.dv(), c.read("dv").data())).as("dv").isLessThan(1e-12);
        assertThat(Errors.relative(d.dg(), c.read("dg").data())).as("dg").isLessThan(1e-12);
        assertThat(Errors.relative(d.dl(), c.read("dl").data())).as("dl").isLessThan(1e-12);
    }

    @org.junit.jupiter.api.Test
    void levelsFollowTheFenwickPartition() {
        // Target 13 = 0b1101: 12 at level 1, 8..11 at level 3, 0..7 at level 4.
        assertThat(MaterializedM2.level(13, 13)).isZero();
        assertThat(MaterializedM2.level(13, 12)).isEqualTo(1);
        assertThat(MaterializedM2.level(13, 8)).isEqualTo(3);
        assertThat(MaterializedM2.level(13, 11)).isEqualTo(3);
        assertThat(MaterializedM2.level(13, 0)).isEqualTo(4);
        assertThat(MaterializedM2.level(1L << 40, (1L << 40) - 1)).isEqualTo(41);
    }
}
