#ifndef FINCH_OPTIONS_HPP
#define FINCH_OPTIONS_HPP

#include <finch/compression.hpp>
#include <finch/encoding.hpp>
#include <finch/envelope_format.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace finch {

/// What a manager does when a connection's outgoing queue would grow past
/// `Options::maxQueuedBytes` (the client reads slower than the server sends).
enum class OverflowPolicy {
    /// Close the connection with 1013 (Try Again Later). The messages still
    /// queued for it are dropped, and `onError` reports `ErrorCode::queueOverflow`.
    /// For clients that must not miss a message: they reconnect and resync
    /// (1013 tells finch's JavaScript client to come back; 1008 would not).
    closeConnection,
    /// Drop the oldest queued messages until the new one fits, and keep the
    /// connection. `onError` reports `ErrorCode::messagesDropped`. For feeds where
    /// only the latest state matters (prices, positions, presence).
    dropOldest,
};

/// What a manager that speaks subprotocols (`Options::subprotocols`) does
/// with a client that offers subprotocols, none of which it speaks.
enum class SubprotocolMismatch {
    /// Answer 400 Bad Request, with a text body that names what the client
    /// offered and what the server speaks. A client that asked for a
    /// subprotocol expects to speak one, and a clear refusal beats messages
    /// it cannot read.
    refuse,
    /// Accept without a subprotocol (the 101 carries no
    /// `Sec-WebSocket-Protocol`), for clients that fall back to a default.
    /// RFC 6455 allows it and browsers open (their `protocol` is then
    /// empty), but some clients fail such a handshake (Node's `ws`).
    acceptWithout,
};

/// Settings of one `SocketManager`, fixed when it is constructed.
///
/// Every member has a default that suits a server on the open internet; each
/// default's reason stands next to it. `docs/limits.md` lists what a client
/// sees when it crosses each limit.
struct Options {
    /// Add `"client": <recipient id>` to every outgoing envelope, as Finch does.
    /// Off by default: the recipient's id makes every envelope of a broadcast
    /// different, so the envelope's head is written once per recipient (the
    /// `data` is still serialized once).
    bool includeClientId = false;

    /// The shape of messages in both directions: Finch's
    /// `{"path", "status", "timestamp", "data"}` by default, or another
    /// route member and data member (`EnvelopeFormat::typeAndPayload()`).
    EnvelopeFormat envelope;

    /// The envelope encodings this manager speaks. A client picks one by
    /// offering its subprotocol (`finch.json`, `finch.msgpack`,
    /// `finch.cbor`): when this lists more than JSON, those names of the
    /// listed encodings join `subprotocols` in the negotiation (the first the
    /// client offers wins, as there), and the connection then sends its
    /// envelopes, error envelopes and broadcasts included, in that encoding
    /// (`Socket::encoding()`). A client that offers none of them gets JSON,
    /// whatever this lists. A MessagePack or CBOR connection sends binary
    /// frames, reads binary frames in its encoding and still reads text
    /// frames as JSON; a JSON connection refuses binary frames (415).
    /// Just JSON by default: binary envelopes are off, and no `finch.*`
    /// subprotocol is negotiated. The encoding names alone never make the
    /// manager refuse an upgrade: `subprotocolMismatch` applies only when
    /// `subprotocols` is not empty. A connection has one subprotocol, so a
    /// client that needs one of `subprotocols` and a binary encoding cannot
    /// have both (its first choice wins).
    std::vector<Encoding> encodings{Encoding::json};

    /// Skip the JSON envelope: every text and binary message reaches the
    /// root's `onRawMessage` as its bytes, nothing is decoded or routed, and
    /// no error envelope is ever sent. Answer with `Socket::sendText` and
    /// `Socket::sendBinary`. Off by default: finch's messages are envelopes.
    bool rawMessages = false;

    /// Largest incoming message in bytes, all of its fragments together; a
    /// larger one closes the connection with 1009 (Message Too Big), found
    /// from the frame's header, before its payload is read. 1 MiB keeps one
    /// client from making the server buffer an unbounded amount of memory.
    /// Zero means no limit for one message; `maxIncomingBytes` still bounds
    /// them all.
    std::size_t maxMessageSize = 1024 * 1024;

    /// Most bytes that the messages still arriving on all connections
    /// together may hold: a message that did not arrive within one read is
    /// given room for its whole length as soon as its header is known, and
    /// that room counts here until the message is handled. A connection
    /// whose next message would pass the limit is closed with 1013 (Try
    /// Again Later). 256 MiB lets hundreds of clients send large messages at
    /// once, yet bounds what slow senders of large messages can take from a
    /// server together. Zero means no limit.
    std::size_t maxIncomingBytes = 256 * 1024 * 1024;

    /// Largest HTTP upgrade request head (request line and headers) in bytes;
    /// a larger one is answered with 431 and closed. 8 KiB is what common
    /// proxies allow, and far more than a browser's upgrade request needs.
    std::size_t maxHeaderBytes = 8 * 1024;

    /// Time a client has to send its complete HTTP request once its TCP
    /// connection is accepted, and to finish the WebSocket handshake. The
    /// clock does not restart when bytes trickle in, so a slow client
    /// (slowloris) cannot hold a slot past it.
    std::chrono::milliseconds handshakeTimeout{std::chrono::seconds(10)};

    /// After this long without hearing from a client, the server sends a
    /// ping; if nothing (the pong included) arrives within another interval,
    /// the connection is dropped (`onError` with `beast::error::timeout`, then
    /// `onDisconnect`). This finds half-open connections whose peer vanished
    /// without a FIN. Zero turns pings and the idle limit off.
    std::chrono::milliseconds pingInterval{std::chrono::seconds(30)};

    /// Most connections open at once, counted from the TCP accept: HTTP
    /// requests still being read, upgrades under way and WebSocket
    /// connections. Above it, a new connection's request is still read, and
    /// answered 503 whatever it asks for. Zero means no limit other than the
    /// process's open-file limit.
    std::size_t maxConnections = 0;

    /// Most bytes queued for one connection and not yet handed to the
    /// kernel. 4 MiB absorbs bursts; past it `overflowPolicy` applies, so one
    /// slow client costs bounded memory and never slows the others.
    std::size_t maxQueuedBytes = 4 * 1024 * 1024;

    /// What happens past `maxQueuedBytes`.
    OverflowPolicy overflowPolicy = OverflowPolicy::closeConnection;

    /// Origins allowed to open a connection, compared without regard to case
    /// (`"https://example.com"`); others get 403. Empty allows any origin.
    /// Requests without an `Origin` header are allowed: browsers always send
    /// it, so its absence means a non-browser client, which no cross-site
    /// page can drive.
    std::vector<std::string> allowedOrigins;

    /// The subprotocols this manager speaks (RFC 6455 1.9), such as
    /// `"chat.v2"`. When the client offers some, the connection gets the
    /// first in the client's order that this list holds: the 101 answer
    /// carries it in `Sec-WebSocket-Protocol`, and `Socket::subprotocol()`
    /// returns it. The upgrade handler may choose instead
    /// (`BasicUpgradeDecision::withSubprotocol`). A client that offers none
    /// is accepted without one. Empty by default: finch then neither picks
    /// nor refuses for a subprotocol (only the upgrade handler may pick).
    /// Names compare case-sensitively.
    std::vector<std::string> subprotocols;

    /// What happens to a client that offers subprotocols of which this
    /// manager speaks none, when `subprotocols` is not empty and the upgrade
    /// handler did not choose. `refuse` (400) by default: a client that asks
    /// for a protocol and gets none would misread every message.
    SubprotocolMismatch subprotocolMismatch = SubprotocolMismatch::refuse;

    /// Time a closing connection has to flush its queue and complete the
    /// closing handshake, counted from the moment the close was asked for
    /// (`close()`, `stop()`, an overflow). Past it the TCP connection is
    /// dropped, so shutdown and a stuck client are bounded in time.
    std::chrono::milliseconds closeTimeout{std::chrono::seconds(5)};

    /// The path of the application-level heartbeat, which finch answers
    /// itself: a message `{"path": "$ping", "id": n}` gets
    /// `{"path": "$ping", "status": 200, "timestamp", "id": n, "replyTo": n, "data": null}`
    /// at once, without reaching a route, a guard or
    /// `onMessage`. Browsers hide WebSocket ping frames from scripts, so a
    /// page that wants to know its connection is alive asks this way (finch's
    /// JavaScript client does, every 25 s by default). Paths that begin with
    /// `$` are reserved for the protocol (docs/protocol.md). Empty turns it
    /// off: the path is then routed like any other. Not used with
    /// `rawMessages`.
    std::string heartbeatPath = "$ping";

    /// permessage-deflate (RFC 7692): null, off, by default. Set it to
    /// `finch::permessageDeflate()` (`<finch/permessage_deflate.hpp>`, which
    /// needs zlib: link `finch::compression`) to compress messages of a
    /// threshold's size and more for clients that offer it, as every browser
    /// does. Off by default for two reasons: compressing secrets next to
    /// text an attacker chooses can leak them by the compressed size (as
    /// CRIME and BREACH did), and compression costs CPU on every message.
    /// It costs no memory per connection (see `PerMessageDeflate`). A client
    /// that does not offer it, or offers only what finch must decline, is
    /// accepted uncompressed. Compressed messages count against
    /// `maxMessageSize` by their inflated size: one that inflates past it
    /// closes the connection with 1009 as soon as the limit is crossed.
    std::shared_ptr<const Compression> compression;
};

}  // namespace finch

#endif
