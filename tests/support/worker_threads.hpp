#ifndef FINCH_TESTS_SUPPORT_WORKER_THREADS_HPP
#define FINCH_TESTS_SUPPORT_WORKER_THREADS_HPP

// Test support for tests that drive a server from several threads of their
// own. Catch2's assertions are not thread-safe: worker threads only count what
// went wrong (and keep the first complaint); the test's thread asserts.

#include <cstddef>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace finch::test {

// What went wrong on worker threads.
class Failures {
public:
    void add(const std::string& what)
    {
        std::lock_guard lock(mutex_);
        if (count_++ == 0)
            first_ = what;
    }
    std::size_t count() const
    {
        std::lock_guard lock(mutex_);
        return count_;
    }
    std::string first() const
    {
        std::lock_guard lock(mutex_);
        return first_;
    }

private:
    mutable std::mutex mutex_;
    std::size_t count_ = 0;
    std::string first_;
};

// Runs `body` on a thread, recording an exception as a failure.
template <class Body>
std::thread worker(Failures& failures, Body body)
{
    return std::thread([&failures, body = std::move(body)]() mutable {
        try {
            body();
        } catch (const std::exception& e) {
            failures.add(e.what());
        }
    });
}

inline void joinAll(std::vector<std::thread>& threads)
{
    for (auto& thread : threads)
        thread.join();
    threads.clear();
}

}  // namespace finch::test

#endif
