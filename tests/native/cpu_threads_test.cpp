// The CPU backend's threading: every num_threads gives bitwise the same
// results (tasks never share accumulators), the worker pool grows between
// calls, callers on several threads share it, and a forked child can still
// run calls (its pool starts empty).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>
#include <vector>

#include "m2_api_harness.h"
#include "m2_random_problem.h"

namespace lla_test {
namespace {

M2Problem threaded_problem() {
    ProblemShape s = shape_of(1, 1500, 4, 2, 32, 16);
    s.cu_seqlens = {0, 700, 1500};
    return random_problem(s, 2024);
}

TEST(CpuThreads, EveryThreadCountGivesBitwiseEqualResults) {
    const M2Problem drawn = threaded_problem();
    const ApiInputs inputs = make_inputs(drawn, LLA_DTYPE_FLOAT32, Layout::Contiguous);
    const M2Problem p = as_stored(drawn, inputs);
    std::mt19937_64 rng(3);
    const std::vector<double> d_o = make_tensor(uniform(static_cast<size_t>(p.T * p.H * p.V), -1, 1, rng),
                                                {1, p.T, p.H, p.V}, LLA_DTYPE_FLOAT32, Layout::Contiguous).values();
    const std::vector<double> o1 = api_forward(p, inputs, LLA_DTYPE_FLOAT32, Layout::Contiguous, 1);
    const M2Gradients g1 = api_backward(p, inputs, d_o, LLA_DTYPE_FLOAT32, Layout::Contiguous, 1);
    expect_close(o1, lla_reference::forward(p), 1e-5, "o at one thread");
    for (int threads : {2, 7, 3, 0, 16}) {  // growing the pool between calls, then all hardware threads
        SCOPED_TRACE("num_threads " + std::to_string(threads));
        EXPECT_EQ(api_forward(p, inputs, LLA_DTYPE_FLOAT32, Layout::Contiguous, threads), o1);
        const M2Gradients g = api_backward(p, inputs, d_o, LLA_DTYPE_FLOAT32, Layout::Contiguous, threads);
        EXPECT_EQ(g.dq, g1.dq);
        EXPECT_EQ(g.dk, g1.dk);
        EXPECT_EQ(g.dv, g1.dv);
        EXPECT_EQ(g.dg, g1.dg);
        EXPECT_EQ(g.dl, g1.dl);
    }
}

TEST(CpuThreads, ConcurrentCallersGetTheirOwnResults) {
    const M2Problem drawn = threaded_problem();
    const ApiInputs inputs = make_inputs(drawn, LLA_DTYPE_FLOAT32, Layout::Contiguous);
    const M2Problem p = as_stored(drawn, inputs);
    const std::vector<double> expected = api_forward(p, inputs, LLA_DTYPE_FLOAT32, Layout::Contiguous, 1);
    std::vector<std::vector<double>> got(4);
    std::vector<std::thread> callers;
    for (size_t c = 0; c < got.size(); ++c)
        callers.emplace_back([&, c] {
            for (int round = 0; round < 3; ++round)
                got[c] = api_forward(p, inputs, LLA_DTYPE_FLOAT32, Layout::Contiguous, static_cast<int>(c) + 1);
        });
    for (std::thread& t : callers) t.join();
    for (const std::vector<double>& o : got) EXPECT_EQ(o, expected);
}

TEST(CpuThreads, ForkedChildRunsCalls) {
    const M2Problem drawn = threaded_problem();
    const ApiInputs inputs = make_inputs(drawn, LLA_DTYPE_FLOAT32, Layout::Contiguous);
    const M2Problem p = as_stored(drawn, inputs);
    const std::vector<double> parent = api_forward(p, inputs, LLA_DTYPE_FLOAT32, Layout::Contiguous, 4);
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        // Report through the exit status; a hang ends by SIGALRM instead of stalling the suite.
        alarm(60);
        const bool same = api_forward(p, inputs, LLA_DTYPE_FLOAT32, Layout::Contiguous, 4) == parent;
        _exit(same ? 0 : 3);
    }
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status)) << "the child did not exit (status " << status << ")";
    EXPECT_EQ(WEXITSTATUS(status), 0) << "the child's forward differed from the parent's";
}

}  // namespace
}  // namespace lla_test
