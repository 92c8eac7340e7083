#ifndef FINCH_DETAIL_REDIS_PUBLISH_BUFFER_HPP
#define FINCH_DETAIL_REDIS_PUBLISH_BUFFER_HPP

#include <cstddef>
#include <deque>
#include <string>
#include <utility>

namespace finch::detail::redis {

// One message published while the backplane was not connected.
struct BufferedMessage {
    std::string channel;
    std::string payload;

    std::size_t bytes() const { return channel.size() + payload.size(); }
};

// The messages kept during an outage (RedisOutagePolicy::keep), oldest first,
// holding at most `limit` bytes of channel names and payloads. Not
// thread-safe: the backplane's strand owns it.
class PublishBuffer {
public:
    explicit PublishBuffer(std::size_t limit)
        : limit_(limit)
    {
    }

    // Keeps `message`, dropping the oldest ones until it fits; a message
    // larger than the whole limit is dropped itself, since keeping it would
    // empty the buffer for nothing. Returns how many messages were dropped.
    std::size_t push(BufferedMessage message)
    {
        if (message.bytes() > limit_)
            return 1;
        std::size_t dropped = 0;
        while (bytes_ + message.bytes() > limit_) {
            bytes_ -= messages_.front().bytes();
            messages_.pop_front();
            ++dropped;
        }
        bytes_ += message.bytes();
        messages_.push_back(std::move(message));
        return dropped;
    }

    bool empty() const { return messages_.empty(); }
    std::size_t size() const { return messages_.size(); }
    std::size_t bytes() const { return bytes_; }

    // Precondition: !empty().
    BufferedMessage pop()
    {
        BufferedMessage message = std::move(messages_.front());
        messages_.pop_front();
        bytes_ -= message.bytes();
        return message;
    }

    // Empties the buffer; returns how many messages it held.
    std::size_t clear()
    {
        const std::size_t count = messages_.size();
        messages_.clear();
        bytes_ = 0;
        return count;
    }

private:
    std::size_t limit_;
    std::size_t bytes_ = 0;
    std::deque<BufferedMessage> messages_;
};

}  // namespace finch::detail::redis

#endif
