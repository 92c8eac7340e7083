#ifndef FINCH_DETAIL_WEBSOCKET_STREAM_HPP
#define FINCH_DETAIL_WEBSOCKET_STREAM_HPP

#include <finch/compression.hpp>
#include <finch/detail/deflate/deflate_offer.hpp>
#include <finch/detail/deflate/deflated_frames.hpp>
#include <finch/detail/memory/prefetch.hpp>
#include <finch/detail/websocket/close.hpp>
#include <finch/detail/websocket/frame_parser.hpp>
#include <finch/detail/websocket/incoming_budget.hpp>
#include <finch/detail/websocket/out_frame.hpp>
#include <finch/detail/websocket/outbox.hpp>
#include <finch/detail/websocket/read_scratch.hpp>
#include <finch/error.hpp>
#include <finch/message_kind.hpp>
#include <finch/options.hpp>

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/system/error_code.hpp>

#include <array>
#include <cassert>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace finch::detail {

// Whether a transport can say if it is secure (TLS); one that cannot is not.
template <class Transport, class = void>
constexpr bool knowsSecurity = false;
template <class Transport>
constexpr bool knowsSecurity<Transport, std::void_t<decltype(std::declval<const Transport&>().secure())>> = true;

// Whether a transport has write state of its own to prefetch (see
// TcpTransport's list of members).
template <class Transport, class = void>
constexpr bool prefetchesWrites = false;
template <class Transport>
constexpr bool prefetchesWrites<Transport, std::void_t<decltype(std::declval<const Transport&>().prefetch(0))>> =
    true;

// A server's WebSocket connection after the upgrade: RFC 6455 spoken over a
// transport (TcpTransport, or a test's memory transport). It reads and
// parses frames, answers pings, keeps the connection alive, writes what is
// sent (Outbox), applies the outgoing queue's limit, and runs the closing
// handshake, in both directions and after a protocol failure. It knows
// nothing of JSON, routes or the application's callbacks: whole messages go
// up to the session above it, which derives from it (CRTP: no virtual call)
// and provides, each called on the strand:
//
//   const Options& streamOptions() const
//   void onStreamMessage(MessageKind kind, std::string_view payload)
//   void onStreamError(const Error& failure)   (the peer broke the protocol, the outgoing
//       queue overflowed, or dropped messages)
//   void onStreamEnd(boost::system::error_code ec)   (the transport is closed; ec is
//       empty after a normal closing handshake, or when the cause was reported already)
//   std::shared_ptr<Session> shared_from_this()
//
// Threads: everything but send(), close(), isOpen() and bufferedAmount()
// runs on the transport's executor, the connection's strand. The strand
// reads, waits and dispatches; the four members above may be called from
// any thread (Outbox says who may write when).
//
// Reads are driven by readiness: a read is tried at once, and the stream
// waits only when it would block, either for readiness or, while messages
// keep arriving, with a receive into a block of its own (see awaitBytes()).
template <class Transport, class Session>
class WebSocketStream {
public:
    using TransportType = Transport;
    using executor_type = typename Transport::executor_type;
    using ClockType = typename Transport::ClockType;
    using TimerType = typename Transport::TimerType;

    WebSocketStream(const WebSocketStream&) = delete;
    WebSocketStream& operator=(const WebSocketStream&) = delete;

    executor_type executor() { return transport_.get_executor(); }

    // True while messages may be sent: open, and not closing.
    bool isOpen() const { return outbox_.isOpen(); }

    // Bytes sent and not yet taken by the transport.
    std::size_t bufferedAmount() const { return outbox_.bufferedAmount(); }

    // Any thread: sends `frame` after what is queued (at once, on this
    // thread, when nothing is). False once the connection is closing, or
    // when this frame overflowed the queue (closeConnection), reported then
    // through onStreamError.
    bool send(const OutFrame& frame)
    {
        const Options& options = session().streamOptions();
        const Outbox::Offer offer = outbox_.offer(transport_, frame, options.maxQueuedBytes, options.overflowPolicy);
        // Sent, or queued for a write loop that runs: the common case, on
        // every receiver of a broadcast.
        if (offer == Outbox::accepted)
            return true;
        return afterOffer(offer);
    }

    // Any thread: sends a message's data frame, compressed when this
    // connection negotiated permessage-deflate and its payload reaches the
    // threshold. `shared`: the compressed forms of a frame that other
    // receivers share (a broadcast), made once for all of them; null for a
    // frame of this connection's own.
    bool sendMessage(const OutFrame& plain, DeflatedFrames* shared = nullptr)
    {
        // Small, so that a broadcast's loop inlines it: compression, out of line.
        if (deflateWindowBits_ == 0)
            return send(plain);
        return sendCompressible(plain, shared);
    }

    // Whether this connection negotiated permessage-deflate.
    bool compressed() const noexcept { return deflateWindowBits_ != 0; }

    // Any thread: brings what send() touches into the cache, ahead of it.
    // Stage 0 is the stream's sending state; each later stage follows a
    // pointer that the stage before brought in (the transport's prefetch),
    // so a broadcast runs the stages a receiver apart (see
    // BroadcastEnvelope::prefetchAhead).
    void prefetch(int stage) const noexcept
    {
        if (stage == 0) {
            const auto* const begin = reinterpret_cast<const char*>(&transport_);
            const auto* const end = reinterpret_cast<const char*>(&deflateWindowBits_ + 1);
            prefetchLines(begin, static_cast<std::size_t>(end - begin));
        } else if constexpr (prefetchesWrites<Transport>) {
            transport_.prefetch(stage - 1);
        }
    }

    // Any thread: whether the transport is TLS (fixed when it was made).
    bool secure() const noexcept
    {
        if constexpr (knowsSecurity<Transport>)
            return transport_.secure();
        else
            return false;
    }

    // Any thread: starts the closing handshake with `code` and `reason`
    // after what is queued. Precondition: isValidClose(code, reason). False
    // if the connection was closing or closed already.
    bool close(std::uint16_t code, std::string_view reason)
    {
        const Outbox::CloseStart start = outbox_.close(controlFrame(Opcode::close, closePayload(code, reason)));
        if (!start.started)
            return false;
        post([startLoop = start.startLoop](WebSocketStream& self) {
            self.armCloseDeadline();
            if (startLoop)
                self.flush();
        });
        return true;
    }

    // A timer on the strand, in the transport's time.
    std::unique_ptr<TimerType> makeTimer() { return transport_.makeTimer(); }

    typename ClockType::time_point now() const { return transport_.now(); }

protected:
    // `maxMessageSize` 0: no limit but `budget`'s; `budget` may be null.
    // `codec` and `deflate`: permessage-deflate, when `deflate` accepted it
    // (`codec` then outlives the stream); an inflated message is bounded by
    // `maxMessageSize`, or by `maxIncomingBytes` when that is 0.
    WebSocketStream(Transport&& transport, std::size_t maxMessageSize, IncomingBudget* budget,
        const Compression* codec = nullptr, const DeflateAgreement& deflate = {}, std::size_t maxIncomingBytes = 0)
        : transport_(std::move(transport))
        , parser_(maxMessageSize, budget)
    {
        if (codec && deflate.accepted) {
            deflater_ = codec;
            deflateWindowBits_ = deflate.serverWindowBits;
            parser_.enableInflation(*codec, maxMessageSize != 0 ? maxMessageSize : maxIncomingBytes,
                deflate.clientTakeover, deflate.clientWindowBits);
        }
    }

    ~WebSocketStream() = default;

    // Strand: the connection is open; `response` (the 101) is the first
    // thing on the wire. Until runStream(), what is sent waits, so that the
    // session's first messages leave in the same write as the 101.
    void openStream(std::string response)
    {
        lastHeard_ = transport_.now();
        outbox_.open(OutFrame{std::make_shared<const std::string>(std::move(response)), 0});
    }

    // Strand: writes the 101 and what was sent since openStream(), then
    // parses `received` (bytes that came with the upgrade request) and reads.
    void runStream(std::string received)
    {
        if (outbox_.isOpen())
            armKeepalive();
        if (outbox_.uncork(true))
            flush();
        if (!received.empty()) {
            if (!consume(received.data(), received.size(), false))
                return;
        }
        read();
    }

    Transport& transport() noexcept { return transport_; }

    Phase phase() const { return outbox_.phase(); }

private:
    using ReceiveBlock = std::array<char, 4096>;

    Session& session() noexcept { return static_cast<Session&>(*this); }

    // sendMessage() on a connection that negotiated permessage-deflate.
    bool sendCompressible(const OutFrame& plain, DeflatedFrames* shared)
    {
        if (plain.size() - plain.headerSize() < deflater_->settings().threshold)
            return send(plain);
        if (shared)
            return send(shared->forWindow(deflateWindowBits_));
        if (const auto compressed = deflateFrame(plain, *deflater_, deflateWindowBits_))
            return send(*compressed);
        return send(plain);
    }

    // What send() does when the frame was refused, or something must happen
    // on the strand: the write loop, a report.
    bool afterOffer(Outbox::Offer offer)
    {
        if (offer & Outbox::overflow) {
            post([startLoop = (offer & Outbox::startLoop) != 0](WebSocketStream& self) {
                self.session().onStreamError(Error{ErrorCode::queueOverflow, "outgoing queue full; closing with 1013"});
                self.armCloseDeadline();
                if (startLoop)
                    self.flush();
            });
            return false;
        }
        if (offer & Outbox::firstDrops)
            post([](WebSocketStream& self) { self.reportDrops(); });
        if (offer & Outbox::startLoop)
            post([](WebSocketStream& self) { self.flush(); });
        return (offer & Outbox::accepted) != 0;
    }

    // Runs `call(*this)` on the strand, keeping the connection alive until then.
    template <class Call>
    void post(Call&& call)
    {
        boost::asio::post(transport_.get_executor(),
            [self = session().shared_from_this(), call = std::forward<Call>(call)]() mutable {
                call(static_cast<WebSocketStream&>(*self));
            });
    }

    // An operation on the transport other than readSome and shutdownSend:
    // under the lock senders write under, when they may write beside us.
    template <class Operation>
    void onTransport(Operation&& operation)
    {
        if constexpr (Transport::sendsBesideReceive)
            outbox_.underLock(std::forward<Operation>(operation));
        else
            operation();
    }

    bool ended() const { return outbox_.phase() == Phase::closed; }

    // The parser's sink.
    struct Sink {
        WebSocketStream& stream;
        void onMessage(MessageKind kind, std::string_view payload) { stream.receivedMessage(kind, payload); }
        void onPing(std::string_view payload) { stream.receivedPing(payload); }
        void onPong(std::string_view) { }
        void onClose(std::uint16_t code, std::string_view) { stream.receivedClose(code); }
    };

    // Reads what the transport has, a bounded number of times so that one
    // busy connection cannot starve the others on its thread, then waits for
    // more. A read that did not fill its buffer has most likely emptied the
    // socket, so the wait starts without a second read to prove it.
    void read()
    {
        ReadScratch scratch;
        for (int round = 0; round < 16; ++round) {
            if (ended())
                return;
            const FrameParser::Room room = draining_ ? FrameParser::Room{} : parser_.room();
            char* const into = room.data ? room.data : scratch.data();
            const std::size_t capacity = room.data ? room.size : scratch.size();
            boost::system::error_code ec;
            const std::size_t size = transport_.readSome(boost::asio::buffer(into, capacity), ec);
            if (ec == boost::asio::error::would_block)
                return awaitBytes();
            if (ec)
                return finish(ec);
            if (draining_) {
                if (size < capacity)
                    return waitReadable();
                continue;
            }
            if (!took(into, size, room.data != nullptr))
                return;
            if (size < capacity)
                return awaitBytes();
        }
        // More may be waiting: come back after the others had a turn.
        post([](WebSocketStream& self) { self.read(); });
    }

    // Parses `size` bytes that just arrived. False once reading must stop.
    bool took(char* data, std::size_t size, bool intoRoom)
    {
        lastHeard_ = transport_.now();
        pingSent_ = false;
        return consume(data, size, intoRoom);
    }

    // Waits for the peer's next bytes, in one of three ways.
    //
    // A connection that is exchanging messages receives into a block of its
    // own: Asio's reactor tries the read at once and otherwise completes it
    // straight from epoll's report, where waiting for readiness costs an
    // epoll_ctl per wait (a third of the system calls of an echoed message).
    //
    // An idle connection has no block, so it costs no read memory: the block
    // is taken when messages arrive and given back at the first keepalive
    // tick that finds no message since the previous one (onKeepalive).
    // Without keepalive (pingInterval 0) there is no tick, so no block either.
    //
    // A large message being received is received straight into its own room
    // (FrameParser::room()), the same way, without a wait for readiness per
    // piece. The room stays where it is until the receive completes: only
    // the strand changes it, and the end of the connection closes the
    // transport, which ends the receive, before it gives the room back.
    void awaitBytes()
    {
        if (draining_)
            return waitReadable();
        if (const FrameParser::Room room = parser_.room(); room.data) {
            onTransport([&] {
                transport_.asyncReceive(boost::asio::buffer(room.data, room.size),
                    [self = session().shared_from_this(), room](boost::system::error_code ec, std::size_t size) {
                        static_cast<WebSocketStream&>(*self).onReceived(ec, size, room);
                    });
            });
            return;
        }
        if (!receiveBlock_) {
            if (!messageSinceTick_ || !keepaliveTimer_)
                return waitReadable();
            receiveBlock_ = std::make_unique<ReceiveBlock>();
        }
        onTransport([&] {
            transport_.asyncReceive(boost::asio::buffer(*receiveBlock_),
                [self = session().shared_from_this()](boost::system::error_code ec, std::size_t size) {
                    static_cast<WebSocketStream&>(*self).onReceived(ec, size, FrameParser::Room{});
                });
        });
    }

    // A receive into the block, or into `room` when it has one.
    void onReceived(boost::system::error_code ec, std::size_t size, FrameParser::Room room)
    {
        if (ended())
            return;
        if (ec == boost::asio::error::operation_aborted && releasingBlock_) {
            releasingBlock_ = false;
            receiveBlock_.reset();
            return awaitBytes();
        }
        releasingBlock_ = false;
        if (ec)
            return finish(ec);
        char* const data = room.data ? room.data : receiveBlock_->data();
        const std::size_t capacity = room.data ? room.size : receiveBlock_->size();
        if (!took(data, size, room.data != nullptr))
            return;
        if (size == capacity)
            return read();  // there may be more
        awaitBytes();
    }

    // An idle connection's read block goes back to the allocator. The pending
    // receive ends with operation_aborted and the connection waits again,
    // for readiness. Not while a write waits for room, nor while draining
    // (the read waits for readiness then): cancelling would end those too.
    void releaseReceiveBlock()
    {
        if (!receiveBlock_ || releasingBlock_ || waitingWritable_ || draining_)
            return;
        releasingBlock_ = true;
        onTransport([&] { transport_.cancel(); });
    }

    void waitReadable()
    {
        onTransport([&] {
            transport_.asyncWaitReadable([self = session().shared_from_this()](boost::system::error_code ec) {
                auto& stream = static_cast<WebSocketStream&>(*self);
                if (stream.ended())
                    return;
                if (ec)
                    return stream.finish(ec);
                stream.read();
            });
        });
    }

    // Parses and dispatches the complete frames in what arrived. What the
    // handlers send meanwhile (replies, pongs) leaves together afterwards.
    // False once reading must stop: after the peer's close frame, a protocol
    // failure, or the end.
    bool consume(char* data, std::size_t size, bool intoRoom)
    {
        outbox_.cork();
        Sink sink{*this};
        const ParseStatus status = intoRoom ? parser_.feedRoom(size, sink) : parser_.feed(data, size, sink);
        if (status == ParseStatus::failed)
            fail(parser_.failure());
        if (outbox_.uncork(false))
            flush();
        return status == ParseStatus::more && !ended();
    }

    void receivedMessage(MessageKind kind, std::string_view payload)
    {
        messageSinceTick_ = true;
        // Closing: the peer's close frame is all that matters now.
        if (outbox_.isOpen())
            session().onStreamMessage(kind, payload);
    }

    void receivedPing(std::string_view payload) { outbox_.pushControl(controlFrame(Opcode::pong, payload)); }

    // The peer's close frame: answered with the same code after what is
    // queued (RFC 6455 5.5.1: an endpoint may finish sending its message
    // first), unless ours is queued or out already; once both have crossed,
    // the server closes the TCP connection first (RFC 6455 7.1.1).
    void receivedClose(std::uint16_t code)
    {
        closeReceived_ = true;
        const bool answered = outbox_.peerClosed(
            controlFrame(Opcode::close, code == closeCode::noStatus ? std::string() : closePayload(code, {})));
        if (answered)
            return closingHandshakeDone();
        armCloseDeadline();
    }

    // The peer broke the protocol: reported at once (however the connection
    // then ends, this is why); what was queued before still leaves, then the
    // close frame with the code for `reason`; then, once it is out, the
    // peer's remaining bytes are drained (drain()).
    void fail(ErrorCode reason)
    {
        endCause_ = reason;
        const boost::system::error_code code = reason;
        session().onStreamError(Error{code, code.message()});
        const bool closeOut =
            outbox_.failed(controlFrame(Opcode::close, closePayload(closeCodeOf(reason), code.message())));
        armCloseDeadline();
        if (closeOut)
            drain();
    }

    // Both close frames have crossed. Over TCP the server now closes first
    // (RFC 6455 7.1.1). Over TLS the peer still owes its close_notify, and
    // that arriving at a closed socket would reset the connection under the
    // peer's last reads (Beast's client then reports its teardown failed);
    // so ours goes out with a FIN, and the rest is drained until the peer
    // ends too, within the close deadline.
    void closingHandshakeDone()
    {
        if constexpr (knowsSecurity<Transport>) {
            if (transport_.secure()) {
                closeComplete_ = true;
                armCloseDeadline();
                return drain();
            }
        }
        finish({});
    }

    // After a failure, the rest of the peer's bytes cannot be parsed, so they
    // are read and dropped until it closes too (within the close deadline).
    // Our FIN tells a client that has read our close frame that the closing
    // handshake is over; closing at once instead would reset the connection
    // under its answer.
    void drain()
    {
        transport_.shutdownSend();
        draining_ = true;
        post([](WebSocketStream& self) { self.read(); });
    }

    void reportDrops()
    {
        const std::size_t dropped = outbox_.takeDrops();
        if (dropped > 0)
            session().onStreamError(
                Error{ErrorCode::messagesDropped, std::to_string(dropped) + " oldest queued messages dropped"});
    }

    // The write loop (strand, claim held): see Outbox.
    void flush()
    {
        for (int round = 0; round < 16; ++round) {
            boost::system::error_code ec;
            switch (outbox_.writeRound(transport_, ec)) {
            case Outbox::Round::idle:
                return;
            case Outbox::Round::failed:
                return finish(ec);
            case Outbox::Round::blocked:
                return waitWritable();
            case Outbox::Round::closeLeft:
                if (closeReceived_)
                    return closingHandshakeDone();  // ours answered theirs
                if (endCause_)
                    return drain();
                break;  // wait for the peer's answer; the read loop goes on
            case Outbox::Round::more:
                break;
            }
        }
        // Senders keep the queue full: let the others on this thread have a turn.
        post([](WebSocketStream& self) { self.flush(); });
    }

    void waitWritable()
    {
        waitingWritable_ = true;
        onTransport([&] {
            transport_.asyncWaitWritable([self = session().shared_from_this()](boost::system::error_code ec) {
                auto& stream = static_cast<WebSocketStream&>(*self);
                stream.waitingWritable_ = false;
                if (stream.ended())
                    return;
                if (ec)
                    return stream.finish(ec);
                stream.flush();
            });
        });
    }

    // Keepalive: one timer per connection, re-armed once per interval rather
    // than at every read; reads only note the time.
    void armKeepalive()
    {
        const auto interval = session().streamOptions().pingInterval;
        if (interval.count() <= 0)
            return;
        if (!keepaliveTimer_)
            keepaliveTimer_ = transport_.makeTimer();
        keepaliveTimer_->expires_at((pingSent_ ? transport_.now() : lastHeard_) + interval);
        keepaliveTimer_->async_wait([self = session().shared_from_this()](boost::system::error_code ec) {
            auto& stream = static_cast<WebSocketStream&>(*self);
            if (!ec && !stream.ended())
                stream.onKeepalive();
        });
    }

    void onKeepalive()
    {
        const auto interval = session().streamOptions().pingInterval;
        if (!messageSinceTick_)
            releaseReceiveBlock();
        messageSinceTick_ = false;
        if (transport_.now() - lastHeard_ < interval)
            return armKeepalive();
        if (pingSent_)
            return finish(boost::beast::error::timeout);  // silent for a whole interval after the ping
        const bool startLoop = outbox_.isOpen() && outbox_.pushControl(controlFrame(Opcode::ping, {}));
        pingSent_ = true;
        armKeepalive();
        if (startLoop)
            flush();
    }

    // Bounds the closing handshake in time: a peer that reads nothing, or
    // never answers the close frame, is dropped after Options::closeTimeout.
    void armCloseDeadline()
    {
        if (closeTimer_ || ended())
            return;
        closeTimer_ = transport_.makeTimer();
        closeTimer_->expires_at(transport_.now() + session().streamOptions().closeTimeout);
        closeTimer_->async_wait([self = session().shared_from_this()](boost::system::error_code ec) {
            auto& stream = static_cast<WebSocketStream&>(*self);
            if (!ec && !stream.ended())
                stream.finish(boost::beast::error::timeout);
        });
    }

    // The end of the connection, however it came (strand only): closes the
    // transport, which ends the pending waits, then tells the session. `ec`
    // is empty after a normal closing handshake.
    void finish(boost::system::error_code ec)
    {
        const bool closeSent = outbox_.closeSent();
        if (!outbox_.finish(transport_))
            return;
        // Our close frame answered by the peer's FIN instead of its close
        // frame: over, and nothing to report. After a protocol failure or an
        // overflow, the cause was reported when it happened; how the peer then
        // went away adds nothing.
        if ((closeSent && !closeReceived_ && ec == boost::asio::error::eof) || endCause_ || outbox_.overflowed() ||
            closeComplete_)
            ec = {};
        parser_.releaseMemory();
        if (closeTimer_)
            closeTimer_->cancel();
        if (keepaliveTimer_)
            keepaliveTimer_->cancel();
        session().onStreamEnd(ec);
    }

    // transport_ to deflateWindowBits_: what a send touches (prefetch()).
    Transport transport_;
    Outbox outbox_;
    const Compression* deflater_ = nullptr;  // fixed before the 101, as is:
    std::uint8_t deflateWindowBits_ = 0;  // the window this connection's messages are compressed with; 0: none

    // Strand only.
    FrameParser parser_;
    typename ClockType::time_point lastHeard_{};
    std::unique_ptr<TimerType> keepaliveTimer_;
    std::unique_ptr<TimerType> closeTimer_;  // made when a close begins
    boost::system::error_code endCause_;  // the protocol failure, once there is one
    std::unique_ptr<ReceiveBlock> receiveBlock_;  // see awaitBytes()
    bool messageSinceTick_ = false;  // a message arrived since the last keepalive tick
    bool releasingBlock_ = false;  // the receive into receiveBlock_ is being cancelled
    bool waitingWritable_ = false;
    bool pingSent_ = false;
    bool draining_ = false;
    bool closeReceived_ = false;
    bool closeComplete_ = false;  // both close frames crossed; what follows is TLS's own ending
};

}  // namespace finch::detail

#endif
