#ifndef FINCH_DETAIL_MANAGER_COMPLETION_GUARD_HPP
#define FINCH_DETAIL_MANAGER_COMPLETION_GUARD_HPP

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/post.hpp>

#include <functional>
#include <memory>
#include <utility>

namespace finch::detail {

// Posts a handler once the last reference to the guard is gone. `close()` and
// `stop()` hand one reference to every connection and session they wait for;
// each lets go of it when it has ended (after its onDisconnect), so the
// handler runs exactly once, after the last of them, without a counter that
// every ending connection would have to find and decrement.
class CompletionGuard {
public:
    // Null when there is nothing to call, so callers can skip the bookkeeping.
    static std::shared_ptr<CompletionGuard> make(boost::asio::any_io_executor executor, std::function<void()> handler)
    {
        if (!handler)
            return nullptr;
        return std::shared_ptr<CompletionGuard>(new CompletionGuard(std::move(executor), std::move(handler)));
    }

    CompletionGuard(const CompletionGuard&) = delete;
    CompletionGuard& operator=(const CompletionGuard&) = delete;

    // Never inline: the last reference may be dropped under a lock, or inside
    // a connection's own cleanup.
    ~CompletionGuard() { boost::asio::post(executor_, std::move(handler_)); }

private:
    CompletionGuard(boost::asio::any_io_executor executor, std::function<void()> handler)
        : executor_(std::move(executor))
        , handler_(std::move(handler))
    {
    }

    boost::asio::any_io_executor executor_;
    std::function<void()> handler_;
};

}  // namespace finch::detail

#endif
