#ifndef FINCH_DETAIL_DEFLATE_INFLATE_BUFFER_HPP
#define FINCH_DETAIL_DEFLATE_INFLATE_BUFFER_HPP

#include <cstddef>
#include <string>

namespace finch::detail {

// Where a compressed message is inflated before its handler sees it: one
// buffer per thread, not per connection, so that no connection keeps inflated
// bytes between messages. Leased, as the read buffer is (ReadScratch): a
// handler that re-enters the io_context (`poll()`, `run_one()`) may let
// another connection inflate on the same thread while it still holds its
// message, so a lease taken while the thread's buffer is in use gets a
// buffer of its own.
class InflateBuffer {
public:
    // A buffer larger than this after a message is given back, not kept for
    // the next one.
    static constexpr std::size_t keptCapacity = 64 * 1024;

    InflateBuffer()
    {
        Slot& slot = threadSlot();
        if (!slot.inUse) {
            slot.inUse = true;
            text_ = &slot.text;
            text_->clear();
        } else {
            text_ = &own_;
        }
    }

    ~InflateBuffer()
    {
        if (text_ == &own_)
            return;
        if (text_->capacity() > keptCapacity)
            std::string().swap(*text_);
        threadSlot().inUse = false;
    }

    InflateBuffer(const InflateBuffer&) = delete;
    InflateBuffer& operator=(const InflateBuffer&) = delete;

    std::string& text() noexcept { return *text_; }

private:
    struct Slot {
        std::string text;
        bool inUse = false;
    };

    static Slot& threadSlot()
    {
        thread_local Slot slot;
        return slot;
    }

    std::string own_;
    std::string* text_ = nullptr;
};

}  // namespace finch::detail

#endif
