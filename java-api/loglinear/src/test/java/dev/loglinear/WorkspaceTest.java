package dev.loglinear;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/**
 * A caller's workspace ({@link LogLinear#withWorkspace}): the same results as memory the library
 * allocates, the size queries, and the errors of a workspace that is too small, in a Java array,
 * closed, or on another device. The GPU case is skipped without a GPU.
 */
class WorkspaceTest {
    static final AttentionShape SHAPE = AttentionShape.of(2, 150, 4, 2, 16, 8, 9);

    static Tensor bytes(Device device, long n) {
        return Tensor.allocate(device, DType.FLOAT32, Math.max(1, (n + 3) / 4));
    }

    static void sameResultsWithAWorkspace(LogLinear lla, AttentionInputs in, Device device) {
        Tensor dO = Tensor.of(RandomInputs.gaussian(new java.util.Random(3), Tensor.product(SHAPE.valueShape()), 1),
                SHAPE.valueShape()).to(device);
        long forward = lla.forwardWorkspaceBytes(in, null), backward = lla.backwardWorkspaceBytes(in, null);
        assertThat(forward).isPositive();
        assertThat(backward).isPositive();
        try (Tensor ws = bytes(device, Math.max(forward, backward)); Tensor o = lla.forward(in);
             Gradients g = lla.backward(in, dO)) {
            LogLinear withWs = lla.withWorkspace(ws);
            assertThat(withWs.workspace()).contains(ws);
            try (Tensor o2 = Tensor.allocate(device, DType.FLOAT32, SHAPE.valueShape());
                 Gradients g2 = Gradients.of(Tensor.allocate(device, DType.FLOAT32, SHAPE.queryShape()),
                         Tensor.allocate(device, DType.FLOAT32, SHAPE.queryShape()),
                         Tensor.allocate(device, DType.FLOAT32, SHAPE.valueShape()),
                         Tensor.allocate(device, DType.FLOAT32, SHAPE.gateShape()),
                         Tensor.allocate(device, DType.FLOAT32, SHAPE.levelScaleShape()))) {
                for (int i = 0; i < 3; i++) {          // the same memory serves call after call
                    withWs.forwardInto(in, null, o2, null);
                    withWs.backwardInto(in, null, dO, g2);
                }
                assertThat(o2.toFloatArray()).containsExactly(o.toFloatArray());
                assertThat(g2.dq().toFloatArray()).containsExactly(g.dq().toFloatArray());
                assertThat(g2.dg().toFloatArray()).containsExactly(g.dg().toFloatArray());
                assertThat(g2.dl().toFloatArray()).containsExactly(g.dl().toFloatArray());
            }
        }
        try (Tensor tooSmall = bytes(device, backward / 2)) {
            assertThatThrownBy(() -> lla.withWorkspace(tooSmall).backward(in, dO))
                    .isInstanceOf(OutOfMemoryException.class).hasMessageContaining("workspace");
        }
        dO.close();
    }

    @Test
    void onTheCpu() {
        LogLinear lla = LogLinear.create(LogLinearConfig.builder().backend(Backend.CPU).build());
        AttentionInputs f = RandomInputs.floats(SHAPE, 1);
        AttentionInputs in = AttentionInputs.of(SHAPE, f.q().toDirect(), f.k().toDirect(), f.v().toDirect(),
                f.g().toDirect(), f.l().toDirect());
        sameResultsWithAWorkspace(lla, in, Device.CPU);
    }

    @Test
    void misuseIsAnErrorNotACrash() {
        LogLinear lla = LogLinear.create(LogLinearConfig.builder().backend(Backend.CPU).build());
        assertThatThrownBy(() -> lla.withWorkspace(Tensor.of(new float[1024])))
                .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("workspace: expected dense native memory");
        Tensor closed = bytes(Device.CPU, 1 << 20);
        LogLinear withClosed = lla.withWorkspace(closed);
        closed.close();
        AttentionInputs in = RandomInputs.floats(SHAPE, 2);
        assertThatThrownBy(() -> withClosed.forward(in)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("released");
        assertThat(lla.withWorkspace(null).workspace()).isEmpty();
    }

    @Test
    void onTheGpu() {
        Gpu.assume();
        LogLinear lla = LogLinear.create(Gpu.exact(LogLinearConfig.defaults()));
        AttentionInputs in = Gpu.onGpu(RandomInputs.floats(SHAPE, 4));
        try (Tensor host = bytes(Device.CPU, 1 << 20)) {
            assertThatThrownBy(() -> lla.withWorkspace(host).forward(in)).isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("workspace is cpu memory but the call's tensors are on cuda:0");
            sameResultsWithAWorkspace(lla, in, Gpu.DEVICE);
        } finally {
            Gpu.close(in);
        }
    }
}
