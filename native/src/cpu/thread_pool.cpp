#include "cpu/thread_pool.h"

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
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
    // The process's pool, created on first use and never destroyed (detached
    // workers may outlive static destructors). A forked child has none of the
    // parent's threads: fork waits for a running loop to finish, and the child
    // starts over with a fresh pool (the parent's, locked, is left behind).
    static ThreadPool& instance() {
        static std::once_flag once;
        std::call_once(once, [] {
            current_ = new ThreadPool();
            pthread_atfork(
                [] {
                    current_->loop_mutex_.lock();
                    current_->state_mutex_.lock();
                },
                [] {
                    current_->state_mutex_.unlock();
                    current_->loop_mutex_.unlock();
                },
                [] { current_ = new ThreadPool(); });
        });
        return *current_;
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
    // Called with loop_mutex_ held, so no loop is published meanwhile: a new
    // worker waits for the next generation, never joins a finished one.
    void ensure_workers(int wanted) {
        while (static_cast<int>(workers_.size()) < wanted) {
            const int index = static_cast<int>(workers_.size()) + 1;
            const uint64_t start = generation_;
            workers_.emplace_back([this, index, start] { worker_loop(index, start); });
            workers_.back().detach();
        }
    }

    void worker_loop(int index, uint64_t seen) {
        inside_parallel_loop = true;
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
            const int64_t item = next_item_.fetch_add(1);
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

    static ThreadPool* current_;

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

ThreadPool* ThreadPool::current_ = nullptr;

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
