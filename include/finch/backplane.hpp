#ifndef FINCH_BACKPLANE_HPP
#define FINCH_BACKPLANE_HPP

#include <boost/system/error_code.hpp>

#include <cstddef>
#include <functional>
#include <string_view>

namespace finch {

/// The state of a `Backplane`'s link to its broker, as `BackplaneEvent`
/// reports it.
enum class BackplaneStatus {
    /// Connecting for the first time, or again after a failure.
    connecting,
    /// Connected and subscribed: publishes go out, subscribed messages come in.
    connected,
    /// The link failed (`BackplaneEvent::error` says why); the backplane
    /// reconnects by itself. Meanwhile local delivery goes on, and what is
    /// published is kept or dropped as the backplane's settings choose.
    disconnected,
    /// `stop()` has completed: no message comes in again.
    stopped,
};

/// A change of a backplane's state, or messages lost.
struct BackplaneEvent {
    /// The backplane's state since this event.
    BackplaneStatus status = BackplaneStatus::connecting;
    /// Why the link failed, for `disconnected`; empty otherwise.
    boost::system::error_code error;
    /// How many published messages have been dropped since `start()`, in
    /// total (an outage longer than the backplane's buffer, or a backplane
    /// set to drop what it cannot publish at once).
    std::size_t dropped = 0;
};

/// What a backplane calls. Both run on the backplane's own executor, one at
/// a time, never from inside a call to the backplane's members. They must not
/// throw (an implementation may call them from C code, where an exception
/// cannot pass).
struct BackplaneHandlers {
    /// A message published on a channel this backplane subscribes to, by any
    /// process of the cluster, this one included. `payload` is valid during
    /// the call only.
    std::function<void(std::string_view channel, std::string_view payload)> onMessage;
    /// Every change of state, and each time messages have been dropped.
    std::function<void(const BackplaneEvent& event)> onEvent;
};

/// The publish/subscribe link that joins the managers of several processes
/// into a cluster (see `SocketManager::joinCluster` and `docs/cluster.md`).
/// `finch::RedisBackplane` (`<finch/redis_backplane.hpp>`) implements it on
/// Redis; any broker with channels and at-most-once delivery could.
///
/// What an implementation promises:
/// - Messages published by one backplane on one channel reach every
///   subscriber of that channel in the order they were published. Nothing is
///   promised between channels, or between publishers.
/// - Delivery is at most once: a subscriber that is disconnected when a
///   message is published does not get it.
/// - `subscribe` and `unsubscribe` are idempotent and take effect soon (a
///   round trip to the broker), not at once: what is published on a channel
///   before its subscription is live is not received. The backplane keeps
///   the set of channels and restores it after a reconnection; `connected`
///   is reported once the channels subscribed before it are live.
/// - No member blocks on the network: each queues its work and returns.
///
/// Thread safety: every member may be called from any thread, concurrently.
class Backplane {
public:
    virtual ~Backplane() = default;

    /// Connects, and from then on calls `handlers`. Called once, before any
    /// other member.
    virtual void start(BackplaneHandlers handlers) = 0;

    /// Publishes `payload` (any bytes) on `channel`. Returns at once; while
    /// disconnected, the message is kept or dropped as the implementation's
    /// settings choose.
    virtual void publish(std::string_view channel, std::string_view payload) = 0;

    /// Receives the messages of `channel` from now on (soon: see above).
    virtual void subscribe(std::string_view channel) = 0;

    /// Stops receiving the messages of `channel`.
    virtual void unsubscribe(std::string_view channel) = 0;

    /// Sends what is queued, if connected (within a deadline of the
    /// implementation's choosing; what cannot be sent is dropped and
    /// counted), disconnects, and then calls `onStopped` once, on the
    /// backplane's executor. No handler runs after `onStopped`. Members
    /// called afterwards do nothing (a publish is counted as dropped).
    /// Destroying a backplane without `stop()` disconnects without sending
    /// what is queued; no handler runs after the destructor.
    virtual void stop(std::function<void()> onStopped = {}) = 0;
};

}  // namespace finch

#endif
