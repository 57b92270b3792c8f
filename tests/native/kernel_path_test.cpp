// The CPU kernel paths (docs/cpu.md, "Kernel paths"): which one a process
// uses, that LLA_CPU_ISA forces it, and that a bad LLA_CPU_ISA fails every
// computation with one message instead of running anything. CTest runs the
// golden, chunked-vs-materialized and continuation suites once per path
// (tests/native/CMakeLists.txt, lla_tests.path.*); a path this CPU cannot
// run skips its whole run through the environment below.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "loglinear/loglinear.h"
#include "valid_calls.h"

namespace {

const std::vector<std::pair<std::string, std::string>> kKnown = {
    {"x86-64-v4", "avx512"}, {"x86-64-v3", "avx2"}, {"x86-64", "baseline"}};

// The canonical name of a known LLA_CPU_ISA value, "" for an unknown one.
std::string canonical(const std::string& value) {
    for (const auto& [name, alias] : kKnown)
        if (value == name || value == alias) return name;
    return "";
}

std::string forced() {
    const char* v = std::getenv("LLA_CPU_ISA");
    return v ? v : "";
}

// A known path this CPU cannot run: nothing of this process can run kernels.
class PathEnvironment : public ::testing::Environment {
public:
    void SetUp() override {
        if (!canonical(forced()).empty() && lla_cpu_isa() == nullptr)
            GTEST_SKIP() << "kernel path unavailable here: " << lla_last_error();
    }
};
const auto* const kEnvironment = ::testing::AddGlobalTestEnvironment(new PathEnvironment);

TEST(KernelPath, IsTheForcedOneOrTheWidestThisCpuRuns) {
    if (!forced().empty() && canonical(forced()).empty()) GTEST_SKIP() << "LLA_CPU_ISA is not a known path";
    const char* isa = lla_cpu_isa();
    ASSERT_NE(isa, nullptr) << lla_last_error();
    EXPECT_STREQ(lla_last_error(), "");
    if (!forced().empty()) {
        EXPECT_EQ(isa, canonical(forced()));
        return;
    }
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
    __builtin_cpu_init();
    const char* widest = __builtin_cpu_supports("x86-64-v4")   ? "x86-64-v4"
                         : __builtin_cpu_supports("x86-64-v3") ? "x86-64-v3"
                                                               : "x86-64";
    EXPECT_STREQ(isa, widest);
#else
    EXPECT_STREQ(isa, "portable");
#endif
}

TEST(KernelPath, ForcedPathComputes) {
    if (canonical(forced()).empty()) GTEST_SKIP() << "LLA_CPU_ISA does not force a known path";
    for (lla_test::Entry entry : {lla_test::Entry::Forward, lla_test::Entry::Backward, lla_test::Entry::Decode}) {
        lla_test::Call call(entry);
        EXPECT_EQ(call.run(), LLA_OK) << lla_test::entry_name(entry) << ": " << lla_last_error();
    }
}

// Run by CTest with LLA_CPU_ISA=avx-1024 (lla_tests.path.unknown).
TEST(KernelPath, UnknownNameFailsEveryComputationWithTheNames) {
    if (forced().empty() || !canonical(forced()).empty()) GTEST_SKIP() << "LLA_CPU_ISA is unset or a known path";
    EXPECT_EQ(lla_cpu_isa(), nullptr);
    const std::string message = lla_last_error();
    EXPECT_NE(message.find("LLA_CPU_ISA=" + forced() + ": unknown kernel path"), std::string::npos) << message;
    for (const auto& [name, alias] : kKnown) EXPECT_NE(message.find(name), std::string::npos) << message;
    for (lla_test::Entry entry : {lla_test::Entry::Forward, lla_test::Entry::Backward, lla_test::Entry::Decode}) {
        lla_test::Call call(entry);
        const std::vector<unsigned char> before = call.memory();
        EXPECT_EQ(call.run(), LLA_ERROR_INVALID_ARGUMENT) << lla_test::entry_name(entry);
        EXPECT_EQ(lla_last_error(), message) << lla_test::entry_name(entry);
        EXPECT_EQ(call.memory(), before) << lla_test::entry_name(entry) << " wrote memory";
    }
    // The size queries run no kernels, so they still answer.
    lla_test::Call sizes(lla_test::Entry::ForwardWorkspace);
    EXPECT_EQ(sizes.run(), LLA_OK) << lla_last_error();
}

}  // namespace
