#ifndef FINCH_DETAIL_MANAGER_CONNECTION_SLOTS_HPP
#define FINCH_DETAIL_MANAGER_CONNECTION_SLOTS_HPP

#include <atomic>
#include <cstddef>
#include <utility>

namespace finch::detail {

// Counts the connections of a manager against `Options::maxConnections`,
// from the TCP accept on: an HTTP request still being read holds a slot, and
// so does the WebSocket connection it becomes, so a burst of clients that
// open sockets and send nothing counts against the limit too.
class ConnectionSlots {
public:
    // One slot, given back when the lease is destroyed (or released): a
    // connection that fails half-way, an exception included, cannot leak it.
    class Lease {
    public:
        Lease() noexcept = default;
        Lease(Lease&& other) noexcept
            : slots_(std::exchange(other.slots_, nullptr))
        {
        }
        Lease& operator=(Lease&& other) noexcept
        {
            if (this != &other) {
                release();
                slots_ = std::exchange(other.slots_, nullptr);
            }
            return *this;
        }
        Lease(const Lease&) = delete;
        Lease& operator=(const Lease&) = delete;
        ~Lease() { release(); }

        explicit operator bool() const noexcept { return slots_ != nullptr; }

        void release() noexcept
        {
            if (slots_)
                std::exchange(slots_, nullptr)->used_.fetch_sub(1, std::memory_order_relaxed);
        }

    private:
        friend class ConnectionSlots;
        explicit Lease(ConnectionSlots& slots) noexcept
            : slots_(&slots)
        {
        }
        ConnectionSlots* slots_ = nullptr;
    };

    // `limit` 0 means unlimited.
    explicit ConnectionSlots(std::size_t limit) noexcept
        : limit_(limit)
    {
    }

    ConnectionSlots(const ConnectionSlots&) = delete;
    ConnectionSlots& operator=(const ConnectionSlots&) = delete;

    // A slot, or an empty lease when the limit is reached.
    Lease tryAcquire() noexcept
    {
        std::size_t current = used_.load(std::memory_order_relaxed);
        do {
            if (limit_ != 0 && current >= limit_)
                return Lease();
        } while (!used_.compare_exchange_weak(current, current + 1, std::memory_order_relaxed));
        return Lease(*this);
    }

    std::size_t used() const noexcept { return used_.load(std::memory_order_relaxed); }

private:
    const std::size_t limit_;
    std::atomic<std::size_t> used_{0};
};

}  // namespace finch::detail

#endif
