/*
 * The native side of bench/jmh's TinyCallBenchmark: the same tiny calls (T = 1, H = 1,
 * K = V = 4, float32, one CPU thread) straight through the C API, so that the Java
 * numbers can be split into library time and JNI/marshalling time.
 *
 *   I=presets/target/cppbuild/linux-x86_64/install   # after a Maven build of presets/
 *   cc -O2 bench/jmh/tiny_call_baseline.c -I$I/include -L$I/lib -lloglinear -o /tmp/tiny_call_baseline
 *   LD_LIBRARY_PATH=$I/lib /tmp/tiny_call_baseline
 */
#define _POSIX_C_SOURCE 199309L /* clock_gettime */
#include <loglinear/loglinear.h>
#include <stdio.h>
#include <time.h>

enum { CALLS = 200000, ROUNDS = 5, STATE_LEVELS = 31 };

/* One call of the benchmark, with the arguments it was set up with. */
struct call {
    const char* label;
    const lla_config* config;
    const lla_inputs* inputs;
    const lla_tensor* out;
    const lla_state* state; /* NULL: a forward; else a decode step on this state */
};

static double now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

static lla_status run(const struct call* c) {
    return c->state == NULL ? lla_forward(c->config, c->inputs, NULL, c->out, NULL, NULL, 0, NULL)
                            : lla_decode_step(c->config, c->inputs, c->state, c->out, NULL);
}

/* ROUNDS rounds of CALLS calls; prints the mean time per call of each round. */
static int time_rounds(const struct call* c) {
    for (int round = 0; round < ROUNDS; round++) {
        double t0 = now_ns();
        for (int i = 0; i < CALLS; i++) {
            if (run(c) != LLA_OK) {
                fprintf(stderr, "%s: %s\n", c->label, lla_last_error());
                return 1;
            }
        }
        printf("%-34s %6.0f ns/call\n", c->label, (now_ns() - t0) / CALLS);
    }
    return 0;
}

static void contiguous(lla_tensor* t, void* data, int32_t dtype, int32_t ndim, const int64_t* shape) {
    if (lla_tensor_make_contiguous(t, data, dtype, LLA_DEVICE_CPU, 0, ndim, shape) != LLA_OK) {
        fprintf(stderr, "lla_tensor_make_contiguous: %s\n", lla_last_error());
    }
}

int main(void) {
    static float q[4] = {1, 2, 3, 4}, k[4] = {.1f, .2f, .3f, .4f}, v[4] = {1, 1, 1, 1}, g[1] = {-0.05f};
    static float l[1] = {1}, o[4], l_token[STATE_LEVELS];
    static float levels[STATE_LEVELS * 4 * 4], log_decay[STATE_LEVELS];
    static int64_t position[1];
    for (int i = 0; i < STATE_LEVELS; i++) l_token[i] = 1;

    lla_config config = lla_config_default();
    config.backend = LLA_BACKEND_CPU;
    config.num_threads = 1;

    /* forward over one token: q, k [1,1,1,4]; v, o [1,1,1,4]; g [1,1,1]; l [1,1,1,1] */
    const int64_t qk[4] = {1, 1, 1, 4}, vo[4] = {1, 1, 1, 4}, gs[3] = {1, 1, 1}, ls[4] = {1, 1, 1, 1};
    lla_inputs in = {0};
    lla_tensor out = {0};
    contiguous(&in.q, q, LLA_DTYPE_FLOAT32, 4, qk);
    contiguous(&in.k, k, LLA_DTYPE_FLOAT32, 4, qk);
    contiguous(&in.v, v, LLA_DTYPE_FLOAT32, 4, vo);
    contiguous(&in.g, g, LLA_DTYPE_FLOAT32, 3, gs);
    contiguous(&in.l, l, LLA_DTYPE_FLOAT32, 4, ls);
    contiguous(&out, o, LLA_DTYPE_FLOAT32, 4, vo);
    const struct call forward = {"lla_forward T=1 H=1 K=V=4 f32", &config, &in, &out, NULL};
    if (time_rounds(&forward) != 0) return 1;

    /* decode step: q, k [1,1,4]; v, o [1,1,4]; g [1,1]; l [1,1,31]; state in the decode form */
    const int64_t tq[3] = {1, 1, 4}, tv[3] = {1, 1, 4}, tg[2] = {1, 1}, tl[3] = {1, 1, STATE_LEVELS};
    const int64_t sl[5] = {1, 1, STATE_LEVELS, 4, 4}, sd[3] = {1, 1, STATE_LEVELS}, sp[1] = {1};
    lla_inputs token = {0};
    lla_tensor token_out = {0};
    lla_state state = {0};
    contiguous(&token.q, q, LLA_DTYPE_FLOAT32, 3, tq);
    contiguous(&token.k, k, LLA_DTYPE_FLOAT32, 3, tq);
    contiguous(&token.v, v, LLA_DTYPE_FLOAT32, 3, tv);
    contiguous(&token.g, g, LLA_DTYPE_FLOAT32, 2, tg);
    contiguous(&token.l, l_token, LLA_DTYPE_FLOAT32, 3, tl);
    contiguous(&token_out, o, LLA_DTYPE_FLOAT32, 3, tv);
    contiguous(&state.levels, levels, LLA_DTYPE_FLOAT32, 5, sl);
    contiguous(&state.log_decay, log_decay, LLA_DTYPE_FLOAT32, 3, sd);
    contiguous(&state.position, position, LLA_DTYPE_INT64, 1, sp);
    const struct call decode = {"lla_decode_step H=1 K=V=4 f32", &config, &token, &token_out, &state};
    if (time_rounds(&decode) != 0) return 1;
    printf("decode state position after the steps: %lld\n", (long long)position[0]);
    return 0;
}
