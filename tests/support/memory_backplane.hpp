#ifndef FINCH_TESTS_SUPPORT_MEMORY_BACKPLANE_HPP
#define FINCH_TESTS_SUPPORT_MEMORY_BACKPLANE_HPP

#include <finch/backplane.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace finch::test {

class MemoryBackplane;

// What a broker does for the cluster tests inside one process: channels,
// subscribers, delivery in publishing order. The tests of a real broker
// (redis-server) are in redis_backplane_test.cpp and tests/e2e; this one
// lets a test cut one node off, or count what each node receives.
class MemoryBroker {
public:
    void attach(const std::shared_ptr<MemoryBackplane>& backplane)
    {
        std::lock_guard lock(mutex_);
        backplanes_.push_back(backplane);
    }

    // Under the broker's lock, so that messages keep the order in which
    // they were published, for every subscriber.
    void route(const std::string& channel, const std::string& payload);

    // Waits until `holds()` is true, at most `limit`, checking it again after
    // each message a node has handled: what the cluster knows of its other
    // nodes changes only when one of their messages arrives (a report every
    // reportInterval at least), so no other moment needs a look. Whether it
    // came true.
    template <class Condition>
    bool settles(Condition holds, std::chrono::steady_clock::duration limit)
    {
        std::unique_lock lock(handledMutex_);
        return handled_.wait_for(lock, limit, holds);
    }

    // A node's handler has returned from a message.
    void noteHandled()
    {
        std::lock_guard lock(handledMutex_);
        handled_.notify_all();
    }

private:
    std::mutex mutex_;
    std::vector<std::weak_ptr<MemoryBackplane>> backplanes_;
    // Not mutex_: a node's strand notifies while a publisher may hold that.
    std::mutex handledMutex_;
    std::condition_variable handled_;
};

class MemoryBackplane final : public Backplane, public std::enable_shared_from_this<MemoryBackplane> {
public:
    static std::shared_ptr<MemoryBackplane> make(std::shared_ptr<MemoryBroker> broker, boost::asio::any_io_executor executor)
    {
        auto backplane = std::shared_ptr<MemoryBackplane>(new MemoryBackplane(broker, std::move(executor)));
        broker->attach(backplane);
        return backplane;
    }

    void start(BackplaneHandlers handlers) override
    {
        {
            std::lock_guard lock(mutex_);
            handlers_ = std::move(handlers);
        }
        report(BackplaneStatus::connected);
    }

    void publish(std::string_view channel, std::string_view payload) override
    {
        {
            std::lock_guard lock(mutex_);
            if (stopped_)
                return;
            if (!online_) {
                ++dropped_;
                return;
            }
        }
        broker_->route(std::string(channel), std::string(payload));
    }

    void subscribe(std::string_view channel) override
    {
        std::lock_guard lock(mutex_);
        channels_.insert(std::string(channel));
    }

    void unsubscribe(std::string_view channel) override
    {
        std::lock_guard lock(mutex_);
        channels_.erase(std::string(channel));
    }

    void stop(std::function<void()> onStopped) override
    {
        {
            std::lock_guard lock(mutex_);
            stopped_ = true;
        }
        boost::asio::post(strand_, [self = shared_from_this(), onStopped = std::move(onStopped)] {
            self->deliverEvent(BackplaneStatus::stopped);
            {
                std::lock_guard lock(self->mutex_);
                self->handlers_ = {};
            }
            if (onStopped)
                onStopped();
        });
    }

    // Faults: offline, the node neither publishes (its messages are
    // dropped and counted) nor receives, as a node whose broker is down.
    void setOnline(bool online)
    {
        {
            std::lock_guard lock(mutex_);
            online_ = online;
        }
        report(online ? BackplaneStatus::connected : BackplaneStatus::disconnected);
    }

    bool online() const
    {
        std::lock_guard lock(mutex_);
        return online_ && !stopped_;
    }

    bool subscribed(const std::string& channel) const
    {
        std::lock_guard lock(mutex_);
        return channels_.count(channel) != 0;
    }

    // The messages this node has received on `channel`.
    std::size_t received(const std::string& channel) const
    {
        std::lock_guard lock(mutex_);
        const auto found = received_.find(channel);
        return found == received_.end() ? 0 : found->second;
    }

    // Called by the broker, under its lock.
    void offer(const std::string& channel, const std::string& payload)
    {
        {
            std::lock_guard lock(mutex_);
            if (!online_ || stopped_ || channels_.count(channel) == 0)
                return;
        }
        boost::asio::post(strand_, [self = shared_from_this(), channel, payload] {
            std::function<void(std::string_view, std::string_view)> onMessage;
            {
                std::lock_guard lock(self->mutex_);
                if (!self->online_ || self->channels_.count(channel) == 0 || !self->handlers_.onMessage)
                    return;
                ++self->received_[channel];
                onMessage = self->handlers_.onMessage;
            }
            onMessage(channel, payload);
            self->broker_->noteHandled();
        });
    }

private:
    MemoryBackplane(std::shared_ptr<MemoryBroker> broker, boost::asio::any_io_executor executor)
        : broker_(std::move(broker)), strand_(boost::asio::make_strand(std::move(executor)))
    {
    }

    void report(BackplaneStatus status)
    {
        boost::asio::post(strand_, [self = shared_from_this(), status] { self->deliverEvent(status); });
    }

    void deliverEvent(BackplaneStatus status)
    {
        std::function<void(const BackplaneEvent&)> onEvent;
        BackplaneEvent event;
        {
            std::lock_guard lock(mutex_);
            onEvent = handlers_.onEvent;
            event.status = status;
            event.dropped = dropped_;
        }
        if (onEvent)
            onEvent(event);
    }

    const std::shared_ptr<MemoryBroker> broker_;
    boost::asio::strand<boost::asio::any_io_executor> strand_;
    mutable std::mutex mutex_;
    BackplaneHandlers handlers_;
    std::set<std::string> channels_;
    std::map<std::string, std::size_t> received_;
    std::size_t dropped_ = 0;
    bool online_ = true;
    bool stopped_ = false;
};

inline void MemoryBroker::route(const std::string& channel, const std::string& payload)
{
    std::lock_guard lock(mutex_);
    for (const auto& weak : backplanes_)
        if (const auto backplane = weak.lock())
            backplane->offer(channel, payload);
}

}  // namespace finch::test

#endif
