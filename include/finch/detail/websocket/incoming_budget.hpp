#ifndef FINCH_DETAIL_WEBSOCKET_INCOMING_BUDGET_HPP
#define FINCH_DETAIL_WEBSOCKET_INCOMING_BUDGET_HPP

#include <atomic>
#include <cstddef>

namespace finch::detail {

// The bytes that the messages still arriving on all connections of a manager
// may hold together (Options::maxIncomingBytes). Each connection's limit
// (maxMessageSize) bounds one client; this bounds them all, so that many
// clients each sending one large message slowly cannot take the server's
// memory. Thread-safe; lock-free.
class IncomingBudget {
public:
    // `limit` 0 means no limit.
    explicit IncomingBudget(std::size_t limit) noexcept
        : limit_(limit)
    {
    }

    IncomingBudget(const IncomingBudget&) = delete;
    IncomingBudget& operator=(const IncomingBudget&) = delete;

    // Takes `bytes` if they fit; all or nothing.
    bool tryTake(std::size_t bytes) noexcept
    {
        std::size_t current = used_.load(std::memory_order_relaxed);
        do {
            if (limit_ != 0 && (bytes > limit_ || current > limit_ - bytes))
                return false;
        } while (!used_.compare_exchange_weak(current, current + bytes, std::memory_order_relaxed));
        return true;
    }

    void giveBack(std::size_t bytes) noexcept { used_.fetch_sub(bytes, std::memory_order_relaxed); }

    std::size_t used() const noexcept { return used_.load(std::memory_order_relaxed); }
    std::size_t limit() const noexcept { return limit_; }

private:
    const std::size_t limit_;
    std::atomic<std::size_t> used_{0};
};

}  // namespace finch::detail

#endif
