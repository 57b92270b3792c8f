package dev.loglinear;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A {@link DecodeState} misused from several threads (issue "Reliability", finding 6): steps
 * from many threads are serialized (no update is lost), and {@code close()} while steps are in
 * flight waits for them; later calls fail with {@link IllegalStateException}, never a crash.
 */
class DecodeStateThreadsTest {
    private static final int THREADS = 8;
    private static final AttentionShape TOKEN = AttentionShape.token(1, 2, 1, 4, 4, 20);
    private static final AttentionInputs INPUT = RandomInputs.floats(TOKEN, 5);

    @Test
    void concurrentStepsLoseNoUpdate() throws Exception {
        LogLinear lla = LogLinear.create(LogLinearConfig.builder().backend(Backend.CPU).threads(1).build());
        int steps = 2000;
        try (DecodeState state = lla.newDecodeState(1, 2, 20, 4, 4, DType.FLOAT32)) {
            ExecutorService pool = Executors.newFixedThreadPool(THREADS);
            CountDownLatch start = new CountDownLatch(1);
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                done.add(pool.submit(() -> {
                    start.await();
                    for (int i = 0; i < steps; i++) {
                        state.step(INPUT);
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : done) {
                f.get(60, TimeUnit.SECONDS);
            }
            pool.shutdown();
            assertThat(state.positions()).containsExactly((long) THREADS * steps);
        }
    }

    @Test
    void closeWhileStepsRunWaitsAndLaterCallsFailCleanly() throws Exception {
        LogLinear lla = LogLinear.create(LogLinearConfig.builder().backend(Backend.CPU).threads(1).build());
        for (int round = 0; round < 5; round++) {
            DecodeState state = lla.newDecodeState(1, 2, 20, 4, 4, DType.FLOAT32);
            ExecutorService pool = Executors.newFixedThreadPool(THREADS);
            AtomicInteger stepped = new AtomicInteger();
            AtomicInteger refused = new AtomicInteger();
            AtomicInteger finished = new AtomicInteger();
            CountDownLatch running = new CountDownLatch(THREADS);
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                done.add(pool.submit(() -> {
                    running.countDown();
                    for (int i = 0; i < 20_000; i++) {  // at most 160K steps: positions stay below 2^19, what 20 levels hold
                        try {
                            state.step(INPUT);
                            stepped.incrementAndGet();
                        } catch (IllegalStateException closed) {
                            refused.incrementAndGet();
                            return null;
                        }
                    }
                    finished.incrementAndGet();  // all its steps ran before close got the lock
                    return null;
                }));
            }
            running.await();
            state.close();
            for (Future<?> f : done) {
                f.get(60, TimeUnit.SECONDS);  // every thread ends, refused once closed
            }
            pool.shutdown();
            assertThat(refused.get() + finished.get()).isEqualTo(THREADS);
            assertThatThrownBy(() -> state.step(INPUT)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("closed");
            assertThatThrownBy(state::positions).isInstanceOf(IllegalStateException.class);
            state.close();  // idempotent
        }
    }
}
