#include "cpu/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace lla::cpu {
namespace {

// Set on pool threads and on a caller while it runs a loop, so that a nested
// parallel_for runs inline instead of waiting for itself.
thread_local bool inside_parallel_loop = false;

class ThreadPool {
public:
    static ThreadPool& instance() {
        static ThreadPool* pool = new ThreadPool();  // never destroyed: workers may outlive static destructors
        return *pool;
    }

    void run(int64_t count, int threads, const std::function<void(int64_t, int)>& body) {
        std::lock_guard<std::mutex> one_loop_at_a_time(loop_mutex_);
        ensure_workers(threads - 1);
        {
            std::lock_guard<std::mutex> lock(state_mutex_);
            body_ = &body;
            count_ = count;
            next_item_.store(0);
            helpers_wanted_ = threads - 1;
            helpers_running_ = threads - 1;
            error_ = nullptr;
            ++generation_;
        }
        wake_.notify_all();
        work(0);
        std::unique_lock<std::mutex> lock(state_mutex_);
        done_.wait(lock, [&] { return helpers_running_ == 0; });
        body_ = nullptr;
        if (error_) std::rethrow_exception(error_);
    }

private:
    void ensure_workers(int wanted) {
        while (static_cast<int>(workers_.size()) < wanted) {
            int index = static_cast<int>(workers_.size()) + 1;
            workers_.emplace_back([this, index] { worker_loop(index); });
            workers_.back().detach();
        }
    }

    void worker_loop(int index) {
        inside_parallel_loop = true;
        uint64_t seen = 0;
        for (;;) {
            {
                std::unique_lock<std::mutex> lock(state_mutex_);
                wake_.wait(lock, [&] { return generation_ != seen; });
                seen = generation_;
                if (index > helpers_wanted_) continue;
            }
            work(index);
            std::lock_guard<std::mutex> lock(state_mutex_);
            if (--helpers_running_ == 0) done_.notify_one();
        }
    }

    void work(int worker) {
        for (;;) {
            int64_t item = next_item_.fetch_add(1);
            if (item >= count_) return;
            try {
                (*body_)(item, worker);
            } catch (...) {
                std::lock_guard<std::mutex> lock(state_mutex_);
                if (!error_) error_ = std::current_exception();
                next_item_.store(count_);  // stop handing out items
                return;
            }
        }
    }

    std::mutex loop_mutex_;
    std::mutex state_mutex_;
    std::condition_variable wake_, done_;
    std::vector<std::thread> workers_;
    const std::function<void(int64_t, int)>* body_ = nullptr;
    int64_t count_ = 0;
    std::atomic<int64_t> next_item_{0};
    int helpers_wanted_ = 0;
    int helpers_running_ = 0;
    uint64_t generation_ = 0;
    std::exception_ptr error_;
};

}  // namespace

int resolve_thread_count(int32_t requested) {
    if (requested > 0) return std::min<int32_t>(requested, 256);
    unsigned hardware = std::thread::hardware_concurrency();
    return hardware == 0 ? 1 : static_cast<int>(std::min(hardware, 256u));
}

void parallel_for(int64_t count, int threads, const std::function<void(int64_t, int)>& body) {
    if (count <= 0) return;
    int used = static_cast<int>(std::min<int64_t>(std::max(threads, 1), count));
    if (used == 1 || inside_parallel_loop) {
        for (int64_t item = 0; item < count; ++item) body(item, 0);
        return;
    }
    inside_parallel_loop = true;
    try {
        ThreadPool::instance().run(count, used, body);
    } catch (...) {
        inside_parallel_loop = false;
        throw;
    }
    inside_parallel_loop = false;
}

}  // namespace lla::cpu
