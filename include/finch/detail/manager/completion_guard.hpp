#ifndef FINCH_DETAIL_MANAGER_COMPLETION_GUARD_HPP
#define FINCH_DETAIL_MANAGER_COMPLETION_GUARD_HPP

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/error_code.hpp>

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <utility>

namespace finch::detail {

// Runs the handler of `close()` or `stop()` once everything they wait for has
// ended. Each of those takes a hold (hold()) and gives it back with release()
// when it has ended, after its onDisconnect; the last release() completes the
// guard, so the handler runs exactly once, after the last of them, without a
// counter that every ending connection would have to find.
//
// Completing posts nothing. The handler is queued up front, by make() in
// close() or stop(), as the wait of a timer that does not expire by itself,
// and the last release() cancels that wait, an operation that exists already:
// no allocation, no executor asked to take work, nothing that can throw,
// wherever it runs (under a lock, in an HTTP session's destructor). The
// handler then runs on the manager's executor like any completion.
//
// A hold that is never given back (a connection destroyed with its io_context
// before it could end) keeps the handler from ever running: it is destroyed
// unrun, with the wait, when the io_context is destroyed, or, should the
// guard go first, when the ended wait finds the guard not completed. So no
// destructor posts, and a dying io_context, or an executor that can no longer
// run anything, is never handed work.
class CompletionGuard {
public:
    // Null when there is nothing to call, so callers can skip the bookkeeping.
    // The guard starts with one hold, the caller's: release it once every
    // holder has been handed the guard, so that holders ending meanwhile
    // cannot complete it early.
    static std::shared_ptr<CompletionGuard> make(boost::asio::any_io_executor executor, std::function<void()> handler)
    {
        if (!handler)
            return nullptr;
        std::shared_ptr<CompletionGuard> guard(new CompletionGuard(std::move(executor)));
        // The wait, not the guard, owns the handler: the last holder may
        // destroy the guard right after its release(), before the handler runs.
        guard->timer_.async_wait(
            [completed = guard->completed_, handler = std::move(handler)](boost::system::error_code) {
                if (completed->load(std::memory_order_acquire))
                    handler();
            });
        return guard;
    }

    CompletionGuard(const CompletionGuard&) = delete;
    CompletionGuard& operator=(const CompletionGuard&) = delete;

    // Takes one more hold; its holder must call release() once.
    void hold() noexcept { holds_.fetch_add(1, std::memory_order_relaxed); }

    // Gives back one hold; the last one lets the handler run.
    void release() noexcept
    {
        if (holds_.fetch_sub(1, std::memory_order_acq_rel) != 1)
            return;
        completed_->store(true, std::memory_order_release);
        try {
            timer_.cancel();
        } catch (...) {
            // Asio's timers report no error on cancel; should one ever throw,
            // the wait still ends, with the timer, when the guard goes.
        }
    }

    // The implicit destructor destroys the timer, which ends a wait still
    // pending (never completed) without submitting anything: the wait finds
    // the guard not completed and drops the handler.

private:
    explicit CompletionGuard(boost::asio::any_io_executor executor)
        : timer_(std::move(executor), boost::asio::steady_timer::time_point::max())
    {
    }

    boost::asio::steady_timer timer_;
    std::atomic<std::size_t> holds_{1};
    const std::shared_ptr<std::atomic<bool>> completed_ = std::make_shared<std::atomic<bool>>(false);
};

}  // namespace finch::detail

#endif
