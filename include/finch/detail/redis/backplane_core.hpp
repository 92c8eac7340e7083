#ifndef FINCH_DETAIL_REDIS_BACKPLANE_CORE_HPP
#define FINCH_DETAIL_REDIS_BACKPLANE_CORE_HPP

#include <finch/backplane.hpp>
#include <finch/detail/redis/backoff.hpp>
#include <finch/detail/redis/connection.hpp>
#include <finch/detail/redis/publish_buffer.hpp>
#include <finch/redis_error.hpp>
#include <finch/redis_options.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <hiredis/hiredis.h>

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

namespace finch::detail::redis {

// The state machine behind RedisBackplane: two connections (PUBLISH needs one
// of its own, since a RESP2 connection that subscribes may send nothing
// else), the set of channels, the outage buffer, reconnection. All of it
// runs on one strand; the public members post to it, so the user's threads
// never touch hiredis.
//
// "connected" means: both connections ready, and Redis has confirmed every
// SUBSCRIBE of the restored set. Only then is the outage buffer published,
// so that a process that subscribes to its own channels gets its own
// messages published during the outage.
class BackplaneCore : public std::enable_shared_from_this<BackplaneCore> {
public:
    BackplaneCore(const boost::asio::any_io_executor& executor, RedisOptions options)
        : strand_(boost::asio::make_strand(executor))
        , options_(std::move(options))
        , buffer_(options_.maxBufferedBytes)
        , backoff_(options_.reconnectDelay, options_.maxReconnectDelay)
        , retryTimer_(strand_)
        , stopTimer_(strand_)
    {
        if (options_.subscribeBatch == 0)
            options_.subscribeBatch = 1;
        // The connections call back into this object only while they exist,
        // and this object owns them: `this` is enough.
        Connection::Handlers publisherHandlers;
        publisherHandlers.onReady = [this] { linkMaybeUp(); };
        publisherHandlers.onFailed = [this](auto ec, std::string text) { linkDown(ec, std::move(text)); };
        publisherHandlers.onPublished = [this](const redisReply* reply) { published(reply); };
        publisher_ = std::make_shared<Connection>(strand_, options_, std::move(publisherHandlers));

        Connection::Handlers subscriberHandlers;
        subscriberHandlers.onReady = [this] { restoreSubscriptions(); };
        subscriberHandlers.onFailed = [this](auto ec, std::string text) { linkDown(ec, std::move(text)); };
        subscriberHandlers.onPush = [this](const redisReply* reply) { pushed(reply); };
        subscriber_ = std::make_shared<Connection>(strand_, options_, std::move(subscriberHandlers));
    }

    BackplaneCore(const BackplaneCore&) = delete;
    BackplaneCore& operator=(const BackplaneCore&) = delete;

    // Normally the connections are closed already (stop() or detach()); not
    // when the io_context went before running detach()'s handler. They are
    // closed here, while the members their last callbacks reach still exist.
    ~BackplaneCore()
    {
        stopped_ = true;
        handlers_ = {};
        publisher_->abort();
        subscriber_->abort();
    }

    const RedisOptions& options() const { return options_; }
    BackplaneStatus status() const { return status_.load(std::memory_order_relaxed); }
    std::size_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

    std::string lastError() const
    {
        std::lock_guard lock(errorMutex_);
        return lastError_;
    }

    void start(BackplaneHandlers handlers)
    {
        boost::asio::post(strand_, [self = shared_from_this(), handlers = std::move(handlers)]() mutable {
            if (self->started_ || self->stopping_)
                return;
            self->started_ = true;
            self->handlers_ = std::move(handlers);
            self->connect();
        });
    }

    void publish(std::string_view channel, std::string_view payload)
    {
        boost::asio::post(strand_,
            [self = shared_from_this(),
                message = BufferedMessage{std::string(channel), std::string(payload)}]() mutable {
                self->publishNow(std::move(message));
            });
    }

    void subscribe(std::string_view channel)
    {
        boost::asio::post(strand_, [self = shared_from_this(), channel = std::string(channel)]() mutable {
            self->subscribeNow(std::move(channel));
        });
    }

    void unsubscribe(std::string_view channel)
    {
        boost::asio::post(strand_,
            [self = shared_from_this(), channel = std::string(channel)]() mutable { self->unsubscribeNow(channel); });
    }

    void stop(std::function<void()> onStopped)
    {
        boost::asio::post(strand_, [self = shared_from_this(), onStopped = std::move(onStopped)]() mutable {
            self->stopNow(std::move(onStopped));
        });
    }

    // The RedisBackplane is going away without stop(): no handler runs
    // again, and the connections close without flushing.
    void detach()
    {
        boost::asio::post(strand_, [self = shared_from_this()] {
            self->handlers_ = {};
            self->onStopped_.clear();
            self->stopping_ = true;
            self->stopped_ = true;
            self->retryTimer_.cancel();
            self->stopTimer_.cancel();
            self->publisher_->abort();
            self->subscriber_->abort();
            self->status_ = BackplaneStatus::stopped;
        });
    }

private:
    void connect()
    {
        if (stopping_)
            return;
        linkUp_ = false;
        restored_ = false;
        restorePending_ = 0;
        setStatus(BackplaneStatus::connecting, {});
        publisher_->open();
        subscriber_->open();
    }

    // All channels again, in batches; "connected" waits for their confirmations.
    void restoreSubscriptions()
    {
        restorePending_ = subscriptions_.size();
        std::vector<std::string_view> batch;
        batch.reserve(std::min(options_.subscribeBatch, subscriptions_.size()));
        for (const auto& channel : subscriptions_) {
            batch.push_back(channel);
            if (batch.size() == options_.subscribeBatch) {
                if (!subscriber_->subscription("SUBSCRIBE", batch))
                    return linkDown(RedisError::other, "hiredis refused SUBSCRIBE");
                batch.clear();
            }
        }
        if (!batch.empty() && !subscriber_->subscription("SUBSCRIBE", batch))
            return linkDown(RedisError::other, "hiredis refused SUBSCRIBE");
        if (restorePending_ == 0) {
            restored_ = true;
            linkMaybeUp();
        }
    }

    void linkMaybeUp()
    {
        if (linkUp_ || stopping_ || !restored_ || !publisher_->ready() || !subscriber_->ready())
            return;
        linkUp_ = true;
        backoff_.reset();
        // What was kept during the outage goes first, in order, before
        // anything published from now on (which is posted behind this).
        while (!buffer_.empty()) {
            BufferedMessage message = buffer_.pop();
            if (!publisher_->publish(message.channel, message.payload))
                noteDropped(1);
        }
        setStatus(BackplaneStatus::connected, {});
    }

    void linkDown(boost::system::error_code ec, std::string text)
    {
        {
            std::lock_guard lock(errorMutex_);
            lastError_ = std::move(text);
        }
        // One connection without the other is no link: both start over.
        publisher_->abort();
        subscriber_->abort();
        linkUp_ = false;
        if (stopping_) {
            finishStop();
            return;
        }
        setStatus(BackplaneStatus::disconnected, ec);
        retryTimer_.expires_after(backoff_.next());
        retryTimer_.async_wait([weak = weak_from_this()](const boost::system::error_code& error) {
            if (auto self = weak.lock(); self && !error)
                self->connect();
        });
    }

    void publishNow(BufferedMessage message)
    {
        if (stopping_) {
            // Too late to report: stop() has been called.
            dropped_.fetch_add(1, std::memory_order_relaxed);
            return;
        }
        if (linkUp_) {
            if (!publisher_->publish(message.channel, message.payload))
                noteDropped(1);
            return;
        }
        if (options_.outagePolicy == RedisOutagePolicy::drop) {
            noteDropped(1);
            return;
        }
        if (const std::size_t dropped = buffer_.push(std::move(message)))
            noteDropped(dropped);
    }

    // A PUBLISH that Redis refused, or that was still unanswered when its
    // connection went, may not have reached anyone: it counts as dropped.
    void published(const redisReply* reply)
    {
        if (reply != nullptr && reply->type != REDIS_REPLY_ERROR)
            return;
        if (reply != nullptr) {
            std::lock_guard lock(errorMutex_);
            lastError_.assign(reply->str, reply->len);
        }
        noteDropped(1);
    }

    void subscribeNow(std::string channel)
    {
        if (stopping_ || !subscriptions_.insert(channel).second)
            return;
        // Before the subscriber is ready, restoreSubscriptions() sends it.
        if (subscriber_->ready() && !subscriber_->subscription("SUBSCRIBE", std::vector<std::string_view>{channel}))
            linkDown(RedisError::other, "hiredis refused SUBSCRIBE");
    }

    void unsubscribeNow(const std::string& channel)
    {
        if (stopping_ || subscriptions_.erase(channel) == 0)
            return;
        // hiredis refuses UNSUBSCRIBE on a context it thinks subscribed to
        // nothing; the channel is out of the set, so nothing is delivered anyway.
        if (subscriber_->ready())
            subscriber_->subscription("UNSUBSCRIBE", std::vector<std::string_view>{channel});
    }

    void pushed(const redisReply* reply)
    {
        if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY || reply->elements != 3)
            return;
        const redisReply* kind = reply->element[0];
        const redisReply* channel = reply->element[1];
        if (kind->type != REDIS_REPLY_STRING || channel->type != REDIS_REPLY_STRING)
            return;
        const std::string_view kindText(kind->str, kind->len);
        if (kindText == "message") {
            const redisReply* payload = reply->element[2];
            if (stopping_ || payload->type != REDIS_REPLY_STRING)
                return;
            std::string name(channel->str, channel->len);
            // A message may arrive between UNSUBSCRIBE and its confirmation.
            if (subscriptions_.count(name) == 0)
                return;
            deliver(name, std::string_view(payload->str, payload->len));
        } else if (kindText == "subscribe" && restorePending_ > 0) {
            if (--restorePending_ == 0) {
                restored_ = true;
                linkMaybeUp();
            }
        }
    }

    void stopNow(std::function<void()> onStopped)
    {
        if (onStopped)
            onStopped_.push_back(std::move(onStopped));
        if (stopped_) {
            // A second stop() after the first completed: its callback still runs once.
            for (auto& callback : std::exchange(onStopped_, {}))
                boost::asio::post(strand_, std::move(callback));
            return;
        }
        if (stopping_)
            return;
        stopping_ = true;
        retryTimer_.cancel();
        subscriber_->abort();
        if (!publisher_->ready()) {
            finishStop();
            return;
        }
        while (!buffer_.empty()) {
            BufferedMessage message = buffer_.pop();
            if (!publisher_->publish(message.channel, message.payload))
                noteDropped(1);
        }
        stopTimer_.expires_after(options_.stopTimeout);
        stopTimer_.async_wait([weak = weak_from_this()](const boost::system::error_code& error) {
            if (auto self = weak.lock(); self && !error)
                self->finishStop();
        });
        publisher_->close([weak = weak_from_this()] {
            if (auto self = weak.lock())
                self->finishStop();
        });
    }

    void finishStop()
    {
        if (stopped_)
            return;
        stopped_ = true;
        stopTimer_.cancel();
        retryTimer_.cancel();
        // Whatever Redis has not confirmed by now counts as dropped.
        publisher_->abort();
        subscriber_->abort();
        linkUp_ = false;
        dropped_.fetch_add(buffer_.clear(), std::memory_order_relaxed);
        setStatus(BackplaneStatus::stopped, {});
        handlers_ = {};
        for (auto& callback : std::exchange(onStopped_, {}))
            invoke(callback);
    }

    void setStatus(BackplaneStatus status, boost::system::error_code ec)
    {
        status_.store(status, std::memory_order_relaxed);
        report(BackplaneEvent{status, ec, dropped()});
    }

    // Drops are reported once per strand turn, not once per message: an
    // outage under RedisOutagePolicy::drop may drop thousands in a burst.
    void noteDropped(std::size_t count)
    {
        dropped_.fetch_add(count, std::memory_order_relaxed);
        if (dropReportQueued_ || stopped_)
            return;
        dropReportQueued_ = true;
        boost::asio::post(strand_, [weak = weak_from_this()] {
            auto self = weak.lock();
            if (!self)
                return;
            self->dropReportQueued_ = false;
            if (!self->stopped_)
                self->report(BackplaneEvent{self->status(), {}, self->dropped()});
        });
    }

    // The user's handlers may be called from inside hiredis (a message is
    // delivered from its read callback), which is C: an exception must not
    // unwind through it, so one that escapes a handler ends the program.
    void report(const BackplaneEvent& event) noexcept
    {
        if (handlers_.onEvent)
            handlers_.onEvent(event);
    }

    void deliver(std::string_view channel, std::string_view payload) noexcept
    {
        if (handlers_.onMessage)
            handlers_.onMessage(channel, payload);
    }

    static void invoke(std::function<void()>& callback) noexcept { callback(); }

    boost::asio::any_io_executor strand_;
    RedisOptions options_;
    std::shared_ptr<Connection> publisher_;
    std::shared_ptr<Connection> subscriber_;
    BackplaneHandlers handlers_;
    std::unordered_set<std::string> subscriptions_;
    PublishBuffer buffer_;
    Backoff backoff_;
    boost::asio::steady_timer retryTimer_;
    boost::asio::steady_timer stopTimer_;
    std::vector<std::function<void()>> onStopped_;
    std::size_t restorePending_ = 0;
    bool restored_ = false;
    bool linkUp_ = false;
    bool started_ = false;
    bool stopping_ = false;
    bool stopped_ = false;
    bool dropReportQueued_ = false;

    std::atomic<BackplaneStatus> status_{BackplaneStatus::connecting};
    std::atomic<std::size_t> dropped_{0};
    mutable std::mutex errorMutex_;
    std::string lastError_;
};

}  // namespace finch::detail::redis

#endif
