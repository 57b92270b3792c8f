package dev.loglinear;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * Native memory is released: 10^5 small calls keep this process's resident set flat. The JVM
 * runs with a fixed, pre-touched heap (see the pom), so resident growth is native memory.
 */
class MemoryReleaseTest {
    /** Rounds of five calls: 10^5 calls measured, after a warm-up of half as many. */
    static final int ROUNDS = 20_000;
    /** Allowed growth of VmRSS over the measured calls: a leak of 100 bytes a call would exceed it. */
    static final long BOUND_BYTES = 8L << 20;

    @Test
    void smallCallsInALoopKeepResidentMemoryFlat() throws IOException {
        AttentionShape shape = AttentionShape.of(1, 1, 1, 1, 4, 4, 1);
        AttentionInputs arrays = RandomInputs.floats(shape, 1);
        AttentionInputs direct = AttentionInputs.of(shape, arrays.q().toDirect(), arrays.k().toDirect(),
                arrays.v().toDirect(), arrays.g().toDirect(), arrays.l().toDirect());
        Tensor o = Tensor.allocateDirect(DType.FLOAT32, shape.valueShape());
        Tensor dO = Tensor.of(new float[4]);
        LogLinear lla = LogLinear.create(LogLinearConfig.builder().backend(Backend.CPU).threads(1).build());
        AttentionInputs bad = RandomInputs.floats(AttentionShape.of(1, 1, 3, 2, 4, 4, 1), 2);

        Runnable oneRound = () -> {
            lla.forward(arrays);                            // Java arrays: copied in and out
            lla.forwardInto(direct, null, o, null);          // direct buffers: in place
            lla.backward(arrays, dO);                        // five gradients allocated
            try {
                lla.forward(bad);                            // a rejected call
            } catch (InvalidArgumentException expected) {
                // the message is read, the call's memory must still be freed
            }
            try (DecodeState state = lla.newDecodeState(1, 1, 2, 4, 4, DType.FLOAT32)) {
                state.prefill(arrays);
            }
        };
        for (int i = 0; i < ROUNDS / 2; i++) {                // warm up: JIT, metaspace, allocator pools
            oneRound.run();
        }
        long before = residentBytes();
        for (int i = 0; i < ROUNDS; i++) {
            oneRound.run();
        }
        long after = residentBytes();
        System.out.printf("MemoryReleaseTest: %d calls, VmRSS %d kB -> %d kB (%+d kB, bound %d kB)%n",
                ROUNDS * 5, before >> 10, after >> 10, (after - before) >> 10, BOUND_BYTES >> 10);
        assertThat(after - before).as("VmRSS growth over %d calls", ROUNDS * 5).isLessThan(BOUND_BYTES);
    }

    static long residentBytes() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) << 10;
            }
        }
        throw new IOException("no VmRSS in /proc/self/status");
    }
}
