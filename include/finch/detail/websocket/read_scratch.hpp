#ifndef FINCH_DETAIL_WEBSOCKET_READ_SCRATCH_HPP
#define FINCH_DETAIL_WEBSOCKET_READ_SCRATCH_HPP

#include <array>
#include <cstddef>
#include <memory>

namespace finch::detail {

// The buffer a connection reads into: one per thread, not per connection, so
// that an idle connection holds no read buffer at all. A read is parsed, and
// its messages dispatched, before the thread reads anything else, so one
// buffer per thread is enough; only the bytes of a frame that has not fully
// arrived are copied into the connection (FrameParser).
//
// Except when a handler re-enters the io_context (runs `poll()` or
// `run_one()` from inside a callback): another connection then reads on the
// same thread while the first one's read is still being dispatched. So the
// buffer is leased: a lease taken while the thread's buffer is in use gets
// one of its own.
class ReadScratch {
public:
    static constexpr std::size_t capacity = 64 * 1024;
    using Block = std::array<char, capacity>;

    ReadScratch()
    {
        Slot& slot = threadSlot();
        if (!slot.inUse) {
            slot.inUse = true;
            data_ = slot.block.data();
        } else {
            own_ = std::make_unique<Block>();
            data_ = own_->data();
        }
    }

    ~ReadScratch()
    {
        if (!own_)
            threadSlot().inUse = false;
    }

    ReadScratch(const ReadScratch&) = delete;
    ReadScratch& operator=(const ReadScratch&) = delete;

    char* data() const noexcept { return data_; }
    static constexpr std::size_t size() noexcept { return capacity; }

private:
    struct Slot {
        Block block;
        bool inUse = false;
    };

    static Slot& threadSlot()
    {
        thread_local Slot slot;
        return slot;
    }

    std::unique_ptr<Block> own_;
    char* data_ = nullptr;
};

}  // namespace finch::detail

#endif
