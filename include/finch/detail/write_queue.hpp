#ifndef FINCH_DETAIL_WRITE_QUEUE_HPP
#define FINCH_DETAIL_WRITE_QUEUE_HPP

#include <cstddef>
#include <deque>
#include <memory>
#include <string>

namespace finch::detail {

// One immutable serialized message. A broadcast shares one of these among all
// its receivers: each queue holds a reference, never a copy.
using SharedText = std::shared_ptr<const std::string>;

// The messages waiting to be written to one connection, and their size in
// bytes. Not synchronized: the connection guards it with its own mutex.
class WriteQueue {
public:
    void push(SharedText message)
    {
        bytes_ += message->size();
        messages_.push_back(std::move(message));
    }

    // Precondition: !empty().
    SharedText pop()
    {
        SharedText message = std::move(messages_.front());
        messages_.pop_front();
        bytes_ -= message->size();
        return message;
    }

    // Drops messages from the front until `incoming` more bytes fit within
    // `limit`, or the queue is empty. Returns how many were dropped.
    std::size_t dropOldest(std::size_t incoming, std::size_t limit)
    {
        std::size_t dropped = 0;
        while (!messages_.empty() && bytes_ + incoming > limit) {
            pop();
            ++dropped;
        }
        return dropped;
    }

    void clear()
    {
        messages_.clear();
        bytes_ = 0;
    }

    bool empty() const noexcept { return messages_.empty(); }
    std::size_t size() const noexcept { return messages_.size(); }
    std::size_t bytes() const noexcept { return bytes_; }

private:
    std::deque<SharedText> messages_;
    std::size_t bytes_ = 0;
};

}  // namespace finch::detail

#endif
