#ifndef FINCH_DETAIL_WEBSOCKET_MESSAGE_BUFFER_HPP
#define FINCH_DETAIL_WEBSOCKET_MESSAGE_BUFFER_HPP

#include <finch/detail/websocket/incoming_budget.hpp>

#include <cstddef>
#include <cstring>
#include <memory>
#include <new>
#include <string_view>

namespace finch::detail {

// Where a message that did not arrive in one read is put together: the
// payload of a frame cut between reads, or the fragments of a message.
//
// Unlike std::string, it makes room without writing it (a socket read fills
// the room directly, see FrameParser::room()), and its memory is taken from
// the manager's IncomingBudget, capacity included. An empty buffer holds no
// memory, so an idle connection costs nothing here.
class MessageBuffer {
public:
    explicit MessageBuffer(IncomingBudget* budget) noexcept
        : budget_(budget)
    {
    }

    ~MessageBuffer() { release(); }

    MessageBuffer(const MessageBuffer&) = delete;
    MessageBuffer& operator=(const MessageBuffer&) = delete;

    // Makes room for `more` bytes after the current ones, growing at least
    // geometrically (so a message in many small fragments costs linear time)
    // but never past `ceiling` bytes in all (0: no ceiling). False when the
    // budget or the allocator refuses; nothing changes then.
    bool reserveMore(std::size_t more, std::size_t ceiling) noexcept
    {
        if (capacity_ - size_ >= more)
            return true;
        const std::size_t needed = size_ + more;
        std::size_t wanted = capacity_ * 2 > needed ? capacity_ * 2 : needed;
        if (ceiling != 0 && wanted > ceiling)
            wanted = ceiling > needed ? ceiling : needed;
        if (budget_ && !budget_->tryTake(wanted - capacity_))
            return false;
        char* const grown = new (std::nothrow) char[wanted];
        if (!grown) {
            if (budget_)
                budget_->giveBack(wanted - capacity_);
            return false;
        }
        if (size_ > 0)
            std::memcpy(grown, data_.get(), size_);
        data_.reset(grown);
        capacity_ = wanted;
        return true;
    }

    char* end() noexcept { return data_.get() + size_; }
    std::size_t room() const noexcept { return capacity_ - size_; }

    // The next `count` bytes at end() are now part of the message.
    // Precondition: count <= room().
    void commit(std::size_t count) noexcept { size_ += count; }

    // Precondition: count <= room().
    void append(const char* bytes, std::size_t count) noexcept
    {
        if (count > 0)
            std::memcpy(end(), bytes, count);
        size_ += count;
    }

    // Forgets the bytes from `size` on (a control frame that was put behind
    // a fragmented message's bytes). Precondition: size <= this->size().
    void truncate(std::size_t size) noexcept { size_ = size; }

    std::string_view view() const noexcept { return {data_.get(), size_}; }
    std::size_t size() const noexcept { return size_; }
    std::size_t capacity() const noexcept { return capacity_; }

    // Empties the buffer and gives its memory back.
    void release() noexcept
    {
        if (budget_ && capacity_ > 0)
            budget_->giveBack(capacity_);
        data_.reset();
        size_ = 0;
        capacity_ = 0;
    }

private:
    IncomingBudget* budget_;
    std::unique_ptr<char[]> data_;
    std::size_t size_ = 0;
    std::size_t capacity_ = 0;
};

}  // namespace finch::detail

#endif
