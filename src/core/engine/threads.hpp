// Helpers for the engines' threads. Worker threads run core code only and start with every
// signal blocked, so Postgres' signal handlers always run on the backend's own thread.
#pragma once

#include <cstddef>
#include <functional>
#include <thread>

#include "core/engine/engine.hpp"

namespace piramid::engine {

// Starts a std::thread running fn with all signals blocked (the caller's mask is restored).
std::thread spawn_blocked(std::function<void()> fn);

// Runs fn(i) for i in [0, items) on up to `threads` worker threads. The calling thread does not
// take items: it waits and polls `cancel` (every few milliseconds), so cancellation is noticed
// even while a long item runs; workers stop taking items once cancellation is requested and fn
// should check cancel->requested() in its inner loops. Returns after every worker has joined:
// kOk, kCanceled, kOutOfMemory or kInternal (an exception in fn).
Status parallel_for(unsigned threads, size_t items, const std::function<void(size_t)>& fn,
                    Cancel* cancel) noexcept;

}  // namespace piramid::engine
