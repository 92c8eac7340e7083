#ifndef FINCH_REDIS_OPTIONS_HPP
#define FINCH_REDIS_OPTIONS_HPP

#include <chrono>
#include <cstddef>
#include <string>

namespace finch {

/// What a `RedisBackplane` does with a message published while it is not
/// connected to Redis (`RedisOptions::outagePolicy`).
enum class RedisOutagePolicy {
    /// Keep it in a buffer of at most `RedisOptions::maxBufferedBytes`, and
    /// publish the buffer, in order, once connected again. When the buffer
    /// is full the oldest messages are dropped (and counted) to make room:
    /// after a long outage, the latest state matters more than the oldest.
    keep,
    /// Drop it at once (and count it): after an outage, publishes resume
    /// with the next one.
    drop,
};

/// The settings of a `RedisBackplane`. Every default is what a single Redis
/// on the same host, with no password, needs.
struct RedisOptions {
    /// Redis' address: an IP address, or a name, resolved anew at every
    /// connection attempt, asynchronously (never on an io thread), within
    /// `connectTimeout`; its first IPv4 address is used, or its first
    /// address if it has no IPv4 one.
    std::string host = "127.0.0.1";
    /// Redis' port.
    unsigned short port = 6379;
    /// The ACL user for `AUTH username password` (Redis 6 and later); empty
    /// sends `AUTH password` (the `default` user, or `requirepass`).
    std::string username;
    /// Sent with `AUTH` on every connection; empty: no `AUTH`.
    std::string password;
    /// The database chosen with `SELECT` (0: none sent). Pub/Sub ignores
    /// databases, a channel is seen from all of them; this matters only to a
    /// server whose ACLs or proxies care.
    int database = 0;
    /// How long connecting may take, from the TCP connection to the answer
    /// to `AUTH`/`SELECT`, before the attempt counts as failed. Long enough
    /// for a server across a data centre, short enough to retry a lost SYN.
    std::chrono::milliseconds connectTimeout{2000};
    /// The wait before the first reconnection; each failed attempt doubles
    /// it, up to `maxReconnectDelay`, and the wait drawn is between half the
    /// delay and the whole (jitter, so that many processes that lost the same
    /// Redis do not return to it at the same instant).
    std::chrono::milliseconds reconnectDelay{100};
    /// The longest wait between two attempts: an outage is noticed at most
    /// this long after Redis is back.
    std::chrono::milliseconds maxReconnectDelay{5000};
    /// How long `stop()` waits for Redis to confirm what has been published
    /// before it disconnects anyway.
    std::chrono::milliseconds stopTimeout{2000};
    /// Under `RedisOutagePolicy::keep`, the most bytes (channel names and
    /// payloads) kept while disconnected. 4 MiB: a few seconds of a busy
    /// cluster's traffic, and no more memory than one large message buffer.
    std::size_t maxBufferedBytes = 4 * 1024 * 1024;
    /// Keep or drop what is published while disconnected.
    RedisOutagePolicy outagePolicy = RedisOutagePolicy::keep;
    /// Channel names are sent in `SUBSCRIBE` commands of at most this many
    /// (after a reconnection, all of them at once): 512 keeps each command a
    /// few kilobytes, far below Redis' limits, and each reply quick.
    std::size_t subscribeBatch = 512;
};

}  // namespace finch

#endif
