#include "core/engine/threads.hpp"

#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <new>
#include <vector>

namespace piramid::engine {

std::thread spawn_blocked(std::function<void()> fn) {
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    try {
        std::thread t(std::move(fn));
        pthread_sigmask(SIG_SETMASK, &old, nullptr);
        return t;
    } catch (...) {
        pthread_sigmask(SIG_SETMASK, &old, nullptr);
        throw;
    }
}

Status parallel_for(unsigned threads, size_t items, const std::function<void(size_t)>& fn,
                    Cancel* cancel) noexcept {
    if (items == 0) return Status::kOk;
    std::atomic<size_t> next{0};
    std::atomic<int> failure{0};  // 1: out of memory, 2: other exception
    auto loop = [&] {
        for (;;) {
            if (cancel != nullptr && cancel->requested()) return;
            if (failure.load(std::memory_order_relaxed) != 0) return;
            const size_t i = next.fetch_add(1);
            if (i >= items) return;
            try {
                fn(i);
            } catch (const std::bad_alloc&) {
                failure.store(1);
            } catch (...) {
                failure.store(2);
            }
        }
    };
    const bool polls = cancel != nullptr && cancel->poll != nullptr;
    const size_t nworkers = std::min<size_t>(threads == 0 ? 1 : threads, items);
    if (nworkers <= 1 && !polls) {
        loop();
    } else {
        std::mutex mu;
        std::condition_variable cv;
        size_t running = 0;
        std::vector<std::thread> pool;
        try {
            pool.reserve(nworkers);
            for (size_t t = 0; t < nworkers; ++t) {
                {
                    std::lock_guard<std::mutex> g(mu);
                    ++running;
                }
                pool.push_back(spawn_blocked([&] {
                    loop();
                    std::lock_guard<std::mutex> g(mu);
                    --running;
                    cv.notify_all();
                }));
            }
        } catch (...) {
            // Could not start every thread: the ones started finish the work; undo the count
            // of the one that failed to start.
            std::lock_guard<std::mutex> g(mu);
            --running;
            if (pool.empty()) {
                running = 0;
                failure.store(1);
            }
        }
        {
            std::unique_lock<std::mutex> lk(mu);
            while (running > 0) {
                cv.wait_for(lk, std::chrono::milliseconds(5));
                if (polls && running > 0) {
                    lk.unlock();
                    cancel->check();
                    lk.lock();
                }
            }
        }
        for (auto& t : pool) t.join();
    }
    if (failure.load() == 1) return Status::kOutOfMemory;
    if (failure.load() == 2) return Status::kInternal;
    if (cancel != nullptr && cancel->requested()) return Status::kCanceled;
    return Status::kOk;
}

}  // namespace piramid::engine
