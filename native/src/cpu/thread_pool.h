// A small persistent pool of worker threads for the CPU backend. One
// parallel loop runs at a time; the calling thread takes part in it.
#pragma once

#include <cstdint>
#include <functional>

namespace lla::cpu {

// Number of threads a call should use: config.num_threads, or all hardware
// threads when it is 0 (at least 1).
int resolve_thread_count(int32_t requested);

// Runs body(item, worker) for every item in [0, count), on at most `threads`
// threads; worker is in [0, threads) and identifies per-thread scratch space.
// Items are handed out dynamically, in increasing order. The first exception
// thrown by body is rethrown here after every thread has stopped.
void parallel_for(int64_t count, int threads, const std::function<void(int64_t item, int worker)>& body);

}  // namespace lla::cpu
