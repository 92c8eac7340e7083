#ifndef FINCH_OPTIONS_HPP
#define FINCH_OPTIONS_HPP

#include <chrono>
#include <cstddef>

namespace finch {

/// Settings of one `SocketManager`, fixed when it is constructed.
///
/// Every member has a default that suits a public server; each default's
/// reason stands next to it.
struct Options {
    /// Add `"client": <recipient id>` to every outgoing envelope, as Finch does.
    /// Off by default: the recipient's id makes every envelope of a broadcast
    /// different, so the envelope's head is written once per recipient (the
    /// `data` is still serialized once).
    bool includeClientId = false;

    /// Largest incoming message in bytes; a larger one closes the connection
    /// with 1009 (Message Too Big). 1 MiB keeps one client from making the
    /// server buffer an unbounded amount of memory.
    std::size_t maxMessageSize = 1024 * 1024;

    /// Time a client has to send its complete HTTP upgrade request after the
    /// TCP connection is accepted, and to answer the closing handshake. A
    /// client that is slower is dropped, so it cannot hold a slot forever.
    std::chrono::seconds handshakeTimeout{10};
};

}  // namespace finch

#endif
