#ifndef FINCH_DETAIL_MANAGER_CONNECTION_SLOTS_HPP
#define FINCH_DETAIL_MANAGER_CONNECTION_SLOTS_HPP

#include <atomic>
#include <cstddef>

namespace finch::detail {

// Counts the connections of a manager against `Options::maxConnections`.
// A slot is taken before the upgrade is answered, so that a burst of upgrades
// cannot overshoot the limit while their handshakes are under way, and given
// back as soon as the connection has ended.
class ConnectionSlots {
public:
    // `limit` 0 means unlimited.
    explicit ConnectionSlots(std::size_t limit) noexcept
        : limit_(limit)
    {
    }

    bool tryAcquire() noexcept
    {
        std::size_t current = used_.load(std::memory_order_relaxed);
        do {
            if (limit_ != 0 && current >= limit_)
                return false;
        } while (!used_.compare_exchange_weak(current, current + 1, std::memory_order_relaxed));
        return true;
    }

    void release() noexcept { used_.fetch_sub(1, std::memory_order_relaxed); }

    std::size_t used() const noexcept { return used_.load(std::memory_order_relaxed); }

private:
    const std::size_t limit_;
    std::atomic<std::size_t> used_{0};
};

}  // namespace finch::detail

#endif
