#ifndef FINCH_DETAIL_WEBSOCKET_WRITE_QUEUE_HPP
#define FINCH_DETAIL_WEBSOCKET_WRITE_QUEUE_HPP

#include <finch/detail/websocket/out_frame.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace finch::detail {

// The frames waiting to be written to one connection, and their size in
// bytes. Not synchronized: the connection guards it with its own mutex.
//
// A vector with a moving head rather than a std::deque: an empty deque
// already holds over half a kilobyte, and most connections are idle with
// an empty queue most of the time.
class WriteQueue {
public:
    void push(OutFrame frame)
    {
        bytes_ += frame.size();
        frames_.push_back(std::move(frame));
    }

    // Control frames (pong, ping) may go between two messages, not inside
    // one; the queue holds whole frames, so its front is such a place. They
    // keep their order among themselves: each ping gets its pong, in turn.
    //
    // With `replaceWaiting`, or once `maxWaitingControls` wait already, the
    // newest one of the same kind still waiting is replaced instead: only the
    // latest ping needs its pong (RFC 6455, 5.5.3), so a peer that pings
    // without reading cannot grow the queue. The caller asks for it when its
    // writes are blocked, so pongs that can leave at once are all sent.
    void pushControl(OutFrame frame, bool replaceWaiting)
    {
        std::size_t firstMessage = head_;
        while (firstMessage < frames_.size() && frames_[firstMessage].isControl())
            ++firstMessage;
        if (replaceWaiting || firstMessage - head_ >= maxWaitingControls) {
            for (std::size_t i = firstMessage; i-- > head_;) {
                if (frames_[i].opcodeBits() == frame.opcodeBits()) {
                    bytes_ += frame.size();
                    bytes_ -= frames_[i].size();
                    frames_[i] = std::move(frame);
                    return;
                }
            }
        }
        bytes_ += frame.size();
        if (head_ > 0) {
            // Room in front: move the waiting control frames up by one.
            for (std::size_t i = head_; i < firstMessage; ++i)
                frames_[i - 1] = std::move(frames_[i]);
            --head_;
            frames_[firstMessage - 1] = std::move(frame);
        } else {
            frames_.insert(frames_.begin() + static_cast<std::ptrdiff_t>(firstMessage), std::move(frame));
        }
    }

    // Control frames that may wait in one queue before a new one replaces
    // the newest of its kind.
    static constexpr std::size_t maxWaitingControls = 16;

    // Precondition: !empty().
    OutFrame pop()
    {
        OutFrame frame = std::move(frames_[head_]);
        bytes_ -= frame.size();
        advance(1);
        return frame;
    }

    // Drops messages, the oldest first, until `incoming` more bytes fit
    // within `limit`, or no message is left. The control frames in front stay
    // where they are: a lost ping or pong would cost the connection itself,
    // not just a message. Returns how many messages were dropped.
    std::size_t dropOldest(std::size_t incoming, std::size_t limit)
    {
        std::size_t controls = 0;
        while (head_ + controls < frames_.size() && frames_[head_ + controls].isControl())
            ++controls;
        const std::size_t first = head_ + controls;
        std::size_t dropped = 0;
        while (first + dropped < frames_.size() && bytes_ + incoming > limit) {
            bytes_ -= frames_[first + dropped].size();
            frames_[first + dropped] = {};
            ++dropped;
        }
        if (dropped == 0)
            return 0;
        // The control frames move up against the first message kept.
        for (std::size_t i = controls; i-- > 0;)
            frames_[head_ + dropped + i] = std::move(frames_[head_ + i]);
        advance(dropped);
        return dropped;
    }

    void clear()
    {
        release();
        bytes_ = 0;
    }

    // Every frame has at least its two header bytes, so no bytes means no
    // frames; cheaper than counting the vector's elements, on every send.
    bool empty() const noexcept { return bytes_ == 0; }
    std::size_t size() const noexcept { return frames_.size() - head_; }
    std::size_t bytes() const noexcept { return bytes_; }

private:
    // Forgets the first `count` frames, already moved out or released.
    void advance(std::size_t count)
    {
        head_ += count;
        if (head_ == frames_.size())
            release();
        else if (head_ >= 32 && head_ * 2 >= frames_.size()) {
            // Compact now and then, so the vector does not grow without end.
            frames_.erase(frames_.begin(), frames_.begin() + static_cast<std::ptrdiff_t>(head_));
            head_ = 0;
        }
    }

    // An emptied queue gives its memory back unless it is small.
    void release()
    {
        head_ = 0;
        if (frames_.capacity() > 16)
            std::vector<OutFrame>().swap(frames_);
        else
            frames_.clear();
    }

    std::vector<OutFrame> frames_;
    std::size_t head_ = 0;  // frames_[0, head_) are already popped
    std::size_t bytes_ = 0;
};

}  // namespace finch::detail

#endif
