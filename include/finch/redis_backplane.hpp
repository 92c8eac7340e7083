#ifndef FINCH_REDIS_BACKPLANE_HPP
#define FINCH_REDIS_BACKPLANE_HPP

/// @file
/// `finch::RedisBackplane`: the `Backplane` on Redis Pub/Sub, through
/// hiredis. Include this header and link the CMake target `finch::redis`,
/// which adds hiredis; a program that does not use Redis needs neither.
///
/// @code
/// finch::RedisOptions options;
/// options.port = 6379;
/// finch::RedisBackplane backplane(io.get_executor(), options);
/// finch::BackplaneHandlers handlers;
/// handlers.onMessage = [](std::string_view channel, std::string_view payload) { ... };
/// handlers.onEvent = [](const finch::BackplaneEvent& event) { ... };
/// backplane.start(std::move(handlers));
/// backplane.subscribe("finch:default:all");
/// backplane.publish("finch:default:all", "hello");
/// @endcode

#include <finch/backplane.hpp>
#include <finch/detail/redis/backplane_core.hpp>
#include <finch/redis_error.hpp>
#include <finch/redis_options.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace finch {

/// A `Backplane` on Redis Pub/Sub (`PUBLISH`, `SUBSCRIBE`), for Redis 2.8
/// and later, standalone or behind a proxy that passes Pub/Sub through.
///
/// It keeps two connections to Redis: one publishes, one subscribes (under
/// RESP2, which hiredis 0.14 speaks, a subscribed connection can send
/// nothing but subscription commands). Every hiredis call runs on a strand
/// of the executor given to the constructor; the members only post to it.
///
/// @par Connection and reconnection
/// `start()` connects both, sends `AUTH` and `SELECT` as `RedisOptions` say,
/// and reports `BackplaneStatus::connecting`, then `connected` once both
/// connections are up and Redis has confirmed every channel of the set.
/// Any failure of either connection (refused, reset, closed by Redis, no
/// connection within `RedisOptions::connectTimeout`, `AUTH` refused) closes
/// both and reports `disconnected` with a `RedisError`; the backplane tries
/// again after `RedisOptions::reconnectDelay`, doubling the wait (with
/// jitter) up to `RedisOptions::maxReconnectDelay`, for as long as it is not
/// stopped, and reports `connecting` and then `connected` or `disconnected`
/// for each attempt. After a reconnection it subscribes to its whole set
/// again, in `SUBSCRIBE` commands of `RedisOptions::subscribeBatch` channels.
///
/// @par Ordering and loss
/// Publishes go out on the one publishing connection in the order of the
/// calls (from one thread; calls from several threads are ordered as the
/// strand receives them). What is published while not connected is kept
/// (`RedisOutagePolicy::keep`, within `RedisOptions::maxBufferedBytes`,
/// oldest dropped first) and published first once connected again, or
/// dropped at once (`RedisOutagePolicy::drop`). A publish that Redis did not
/// confirm before its connection failed, or refused with an error, counts
/// as dropped too: it may or may not have reached the subscribers. Every
/// drop adds to `dropped()` and is reported by `onEvent` (`BackplaneEvent::dropped`,
/// the total; drops made in one turn of the strand are reported once).
/// Messages published while this backplane's subscriber was disconnected
/// are lost for it: Redis Pub/Sub delivers at most once.
///
/// @par Handlers
/// `onMessage` and `onEvent` run on the strand, one at a time. `onMessage`
/// runs from inside hiredis' read callback, which is C code: a handler must
/// not throw (an exception that escapes ends the program, `noexcept`). They
/// may call any member of the backplane.
///
/// @par Thread Safety
/// Every member may be called from any thread, concurrently; none blocks.
/// The destructor does not wait: without `stop()`, no handler runs after it
/// and the connections close, without flushing, on the strand soon after.
/// The executor must outlive the backplane's work (run it until `stop()`'s
/// callback).
///
/// @par Errors
/// `BackplaneEvent::error` is a `RedisError` (category `finch.redis`);
/// `lastError()` keeps the text that hiredis or the server gave with it, as
/// "Connection refused" or "WRONGPASS invalid username-password pair".
///
/// @par Redis' configuration
/// No persistence is needed. Redis disconnects a subscriber whose output
/// buffer passes `client-output-buffer-limit pubsub` (32 MiB hard, 8 MiB for
/// 60 s by default): the backplane reconnects, and what was in that buffer is
/// lost. See `docs/cluster.md`.
class RedisBackplane final : public Backplane {
public:
    /// A backplane whose hiredis work runs on a strand of `executor`.
    /// Nothing is connected before `start()`.
    explicit RedisBackplane(const boost::asio::any_io_executor& executor, RedisOptions options = {})
        : core_(std::make_shared<detail::redis::BackplaneCore>(executor, std::move(options)))
    {
    }

    /// A backplane on `io`'s executor.
    explicit RedisBackplane(boost::asio::io_context& io, RedisOptions options = {})
        : RedisBackplane(io.get_executor(), std::move(options))
    {
    }

    RedisBackplane(const RedisBackplane&) = delete;
    RedisBackplane& operator=(const RedisBackplane&) = delete;

    /// Does not block: see the class's Thread Safety.
    ~RedisBackplane() override { core_->detach(); }

    /// Connects to Redis, and from then on calls `handlers`. A second call
    /// does nothing.
    void start(BackplaneHandlers handlers) override { core_->start(std::move(handlers)); }

    /// Publishes `payload` on `channel` (both any bytes), or keeps or drops it
    /// while disconnected, as `RedisOptions::outagePolicy` says. After
    /// `stop()`, the message is dropped (counted, not reported).
    void publish(std::string_view channel, std::string_view payload) override { core_->publish(channel, payload); }

    /// Adds `channel` (any bytes) to the set of channels received, and sends
    /// `SUBSCRIBE` when connected. Subscribing twice is subscribing once.
    void subscribe(std::string_view channel) override { core_->subscribe(channel); }

    /// Removes `channel` from the set; its messages are no longer delivered,
    /// even those already on their way.
    void unsubscribe(std::string_view channel) override { core_->unsubscribe(channel); }

    /// Stops: publishes what the outage buffer holds (when connected), waits
    /// up to `RedisOptions::stopTimeout` for Redis to confirm every publish,
    /// disconnects, reports `BackplaneStatus::stopped` (with the final
    /// `dropped` total, which counts what could not be confirmed), then calls
    /// `onStopped` on the strand. No handler runs after `onStopped`. Not
    /// connected at the time: the buffer is dropped, and it stops at once.
    /// Calling again only adds a callback.
    void stop(std::function<void()> onStopped = {}) override { core_->stop(std::move(onStopped)); }

    /// The last status reported (`connecting` before `start()`). Any thread.
    BackplaneStatus status() const noexcept { return core_->status(); }

    /// How many published messages have been dropped so far. Any thread.
    std::size_t dropped() const noexcept { return core_->dropped(); }

    /// The text of the last failure (hiredis' `errstr`, or Redis' error
    /// reply), empty before any; kept after reconnecting. Any thread.
    std::string lastError() const { return core_->lastError(); }

    /// The options given to the constructor.
    const RedisOptions& options() const noexcept { return core_->options(); }

private:
    std::shared_ptr<detail::redis::BackplaneCore> core_;
};

}  // namespace finch

#endif
