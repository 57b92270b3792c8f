package dev.loglinear;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Version, backends, configuration and the mapping of native statuses to exceptions. */
class LogLinearTest {
    @Test
    void versionAndBackends() {
        assertThat(LogLinear.version()).matches("\\d+\\.\\d+\\.\\d+").startsWith("0.4.");
        assertThat(LogLinear.isAvailable(Backend.CPU)).isTrue();
        LogLinear.create().synchronize();
    }

    @Test
    void configurationDefaultsAndDerivations() {
        LogLinearConfig defaults = LogLinearConfig.defaults();
        assertThat(defaults.variant()).isEqualTo(Variant.MAMBA2);
        assertThat(defaults.scale()).isEqualTo(1.0);
        assertThat(defaults.backend()).isEqualTo(Backend.AUTO);
        assertThat(defaults.mathMode()).isEqualTo(MathMode.DEFAULT);
        assertThat(defaults.threads()).isZero();
        LogLinearConfig custom = defaults.toBuilder().scale(0.125).threads(2).variant(Variant.GATED_DELTANET).build();
        assertThat(custom).isEqualTo(custom.toBuilder().build()).isNotEqualTo(defaults);
        assertThat(custom.toString()).contains("GATED_DELTANET", "0.125", "threads=2");
    }

    @Test
    void everyStatusHasItsException() {
        assertThat(LogLinearException.of(1, "m")).isExactlyInstanceOf(InvalidArgumentException.class);
        assertThat(LogLinearException.of(2, "m")).isExactlyInstanceOf(UnsupportedException.class);
        assertThat(LogLinearException.of(3, "m")).isExactlyInstanceOf(OutOfMemoryException.class);
        assertThat(LogLinearException.of(4, "m")).isExactlyInstanceOf(BackendException.class);
        assertThat(LogLinearException.of(5, "m")).isExactlyInstanceOf(InternalException.class).hasMessage("m");
        LogLinearException unknown = LogLinearException.of(42, "m");
        assertThat(unknown.status()).isEqualTo(Status.INTERNAL);
        assertThat(unknown).hasMessage("unknown status 42: m");
        for (Status s : Status.values()) {
            assertThat(Status.of(s.code())).isEqualTo(s);
        }
    }
}
