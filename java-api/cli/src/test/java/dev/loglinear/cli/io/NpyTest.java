package dev.loglinear.cli.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.loglinear.cli.GoldenData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NpyTest {
    @TempDir
    Path tmp;

    @Test
    void roundTripKeepsShapeAndValues() throws IOException {
        NpyArray a = new NpyArray(new long[] {2, 3, 1}, new double[] {1, -2.5, 3e-300, Double.MAX_VALUE, 0, -0.0});
        Path f = tmp.resolve("a.npy");
        Npy.write(f, a);
        NpyArray b = Npy.read(f);
        assertThat(b.shape()).containsExactly(2, 3, 1);
        assertThat(b.data()).containsExactly(a.data());
    }

    @Test
    void writesOneDimensionalAndScalarShapesAsNumpyDoes() throws IOException {
        Path f = tmp.resolve("v.npy");
        Npy.write(f, new NpyArray(new long[] {4}, new double[4]));
        String header = new String(Files.readAllBytes(f), 10, 60, java.nio.charset.StandardCharsets.ISO_8859_1);
        assertThat(header).contains("'shape': (4,)");
        Npy.write(f, new NpyArray(new long[] {}, new double[] {7}));
        assertThat(Npy.read(f).data()).containsExactly(7.0);
        assertThat(Npy.read(f).shape()).isEmpty();
    }

    @Test
    void dataStartsAtA64ByteBoundary() throws IOException {
        Path f = tmp.resolve("p.npy");
        Npy.write(f, new NpyArray(new long[] {1, 2, 3, 4, 5}, new double[120]));
        assertThat((Files.size(f) - 120 * 8) % 64).isZero();
    }

    @Test
    void readsGoldenFilesWrittenByNumpy() throws IOException {
        NpyArray q = Npy.read(GoldenData.root().resolve("m2_t7/q.npy"));
        assertThat(q.shape()).containsExactly(1, 7, 1, 8);
        assertThat(q.data()).hasSize(56).doesNotContain(Double.NaN);
    }

    @Test
    void rejectsAFileThatIsNotNpy() throws IOException {
        Path f = tmp.resolve("bad.npy");
        Files.writeString(f, "hello world, not numpy");
        assertThatThrownBy(() -> Npy.read(f)).isInstanceOf(IOException.class).hasMessageContaining("bad magic");
    }

    @Test
    void rejectsATruncatedFile() throws IOException {
        Path f = tmp.resolve("t.npy");
        Npy.write(f, new NpyArray(new long[] {3}, new double[] {1, 2, 3}));
        byte[] all = Files.readAllBytes(f);
        Files.write(f, java.util.Arrays.copyOf(all, all.length - 8));
        assertThatThrownBy(() -> Npy.read(f)).isInstanceOf(IOException.class).hasMessageContaining("expected");
    }
}
