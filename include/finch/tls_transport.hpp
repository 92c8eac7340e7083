#ifndef FINCH_TLS_TRANSPORT_HPP
#define FINCH_TLS_TRANSPORT_HPP

#include <finch/detail/tls/tls_channel.hpp>
#include <finch/tcp_transport.hpp>
#include <finch/tls_context.hpp>

#include <boost/asio/post.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <utility>

namespace finch {

/// The transport of a manager that serves `wss://` (and `ws://` beside it):
/// each connection is either TLS on TCP, when it came through a listener
/// given a `TlsContext`, or plain TCP, like `finch::TcpTransport`. One
/// manager of this transport (`finch::TlsSocketManager`) holds both kinds:
/// `sendToAll`, rooms, users and counts cover them all, and
/// `Socket::secure()` tells them apart.
///
/// It offers what `finch::TcpTransport` documents. The TLS handshake happens
/// inside the first reads of the HTTP request, so `Options::handshakeTimeout`
/// covers it, and its bytes count against `Options::maxHeaderBytes` (a
/// client that trickles a ClientHello is cut at the deadline; one that sends
/// too much, at the limit). OpenSSL runs on the non-blocking socket directly
/// (`docs/architecture.md` says why and what it costs); an idle connection
/// gives its record buffers back (`SSL_MODE_RELEASE_BUFFERS`).
///
/// @par Thread Safety
/// As `finch::TcpTransport`: `writeSome` may run on a sender's thread beside
/// `readSome` and `shutdownSend` on the strand. An `SSL` object must never
/// be used from two threads at once, so a TLS connection's OpenSSL calls
/// take a mutex of the connection's own (uncontended but for that case).
class TlsTransport {
public:
    /// Where the connection's operations and callbacks run.
    using executor_type = TcpTransport::executor_type;
    /// The TCP socket, with the strand as its executor type.
    using SocketType = TcpTransport::SocketType;
    /// The clock of timers and deadlines.
    using ClockType = TcpTransport::ClockType;
    /// A timer on the strand.
    using TimerType = TcpTransport::TimerType;

    /// @deprecated The old name of `SocketType`; removed in the next release.
    using socket_type [[deprecated("use SocketType")]] = SocketType;
    /// @deprecated The old name of `ClockType`; removed in the next release.
    using clock_type [[deprecated("use ClockType")]] = ClockType;
    /// @deprecated The old name of `TimerType`; removed in the next release.
    using timer_type [[deprecated("use TimerType")]] = TimerType;

    /// `writeSome` may run beside `readSome` (see the class's Thread Safety).
    static constexpr bool sendsBesideReceive = true;

    /// A plain TCP connection (`ws://`, or a socket given to `requestHandle()`).
    explicit TlsTransport(SocketType socket) noexcept : tcp_(std::move(socket)) { }

    /// A TLS connection, server side, serving `context`. A failure to set it
    /// up (out of memory) is reported by the first read.
    TlsTransport(SocketType socket, std::shared_ptr<const TlsContext> context)
        : tcp_(std::move(socket))
        , context_(std::move(context))
    {
        boost::system::error_code ec;
        if (SSL* const ssl = context_ ? context_->newConnection(ec) : nullptr)
            channel_ = std::make_unique<Channel>(ssl);
        else
            setupError_ = ec ? ec : make_error_code(boost::system::errc::invalid_argument);
    }

    /// Whether the connection is TLS.
    bool secure() const noexcept { return channel_ != nullptr || setupError_; }

    /// The connection's OpenSSL object (its peer certificate, protocol
    /// version, cipher), or null for a plain connection. Use it on the
    /// connection's strand only, and do not read or write through it.
    SSL* nativeHandle() const noexcept { return channel_ ? channel_->nativeHandle() : nullptr; }

    /// Brings what `writeSome` touches into the CPU cache, ahead of it: step
    /// 0, the TLS channel; step 1, its OpenSSL object (a pointer in the
    /// channel). A broadcast calls it for the receivers after the one it
    /// writes to. Any thread; it reads only what is fixed while the
    /// connection lives.
    void prefetch(int step) const noexcept
    {
        if (channel_)
            channel_->prefetch(step);
    }

    /// Bytes of handshake a client may send before it is cut
    /// (`Options::maxHeaderBytes`; finch sets it when the connection starts).
    void limitHandshake(std::size_t bytes) noexcept
    {
        if (channel_)
            channel_->limitHandshake(bytes);
    }

    /// The connection's strand.
    executor_type get_executor() noexcept { return tcp_.get_executor(); }

    /// The time now, on `ClockType`.
    ClockType::time_point now() const noexcept { return tcp_.now(); }

    /// A new timer on the strand.
    std::unique_ptr<TimerType> makeTimer() { return tcp_.makeTimer(); }

    /// One non-blocking read of plaintext (after the handshake, which it
    /// drives): `would_block` when there is none yet, `eof` once the peer has
    /// closed (with or without close_notify), OpenSSL's error (Asio's SSL
    /// category) when the peer breaks TLS.
    std::size_t readSome(boost::asio::mutable_buffer buffer, boost::system::error_code& ec)
    {
        if (!channel_)
            return setupError_ ? fail(ec) : tcp_.readSome(buffer, ec);
        return channel_->read(tcp_.socket(), buffer, ec);
    }

    /// One non-blocking write of plaintext: as many bytes as went out
    /// encrypted now, `would_block` when none could.
    template <class ConstBufferSequence>
    std::size_t writeSome(const ConstBufferSequence& buffers, boost::system::error_code& ec)
    {
        if (!channel_)
            return setupError_ ? fail(ec) : tcp_.writeSome(buffers, ec);
        return channel_->write(tcp_.socket(), buffers, ec);
    }

    /// Receives into `buffer` once plaintext arrives. The transport must
    /// stay where it is until the handler runs.
    template <class Handler>
    void asyncReceive(boost::asio::mutable_buffer buffer, Handler&& handler)
    {
        if (!channel_)
            return tcp_.asyncReceive(buffer, std::forward<Handler>(handler));
        if (channel_->hasPendingInput() || channel_->hasPendingOutput()) {
            // Readable now, or the handshake's output must go first: by readiness.
            asyncWaitReadable([this, buffer, handler = std::forward<Handler>(handler)](
                                  boost::system::error_code ec) mutable { readInto(buffer, ec, std::move(handler)); });
            return;
        }
        // Ciphertext is received by the reactor into the channel's inbox,
        // then decrypted into `buffer` (see TlsChannel::inbox()).
        tcp_.asyncReceive(channel_->inbox(),
            [this, buffer, handler = std::forward<Handler>(handler)](
                boost::system::error_code ec, std::size_t size) mutable {
                channel_->received(ec ? 0 : size);
                readInto(buffer, ec, std::move(handler));
            });
    }

    /// Calls `handler(error_code)` once a read may return something: at once
    /// when OpenSSL holds decrypted bytes that the socket will not announce.
    /// While ciphertext the handshake wrote waits for the kernel, it waits
    /// until the socket is writable instead (the next read sends it).
    template <class Handler>
    void asyncWaitReadable(Handler&& handler)
    {
        if (channel_)
            channel_->releaseInbox();  // waiting by readiness: the connection is idle, or still handshaking
        if (channel_ && channel_->hasPendingInput()) {
            boost::asio::post(tcp_.get_executor(),
                [handler = std::forward<Handler>(handler)]() mutable { handler(boost::system::error_code{}); });
            return;
        }
        if (channel_ && channel_->hasPendingOutput())
            return tcp_.asyncWaitWritable(std::forward<Handler>(handler));
        tcp_.asyncWaitReadable(std::forward<Handler>(handler));
    }

    /// Calls `handler(error_code)` once the kernel takes bytes again.
    template <class Handler>
    void asyncWaitWritable(Handler&& handler)
    {
        tcp_.asyncWaitWritable(std::forward<Handler>(handler));
    }

    /// Ends the pending waits and receives with `operation_aborted`.
    void cancel() noexcept { tcp_.cancel(); }

    /// Sends TLS's close_notify, then a FIN (unless ciphertext is still
    /// waiting for the kernel: a FIN would cut it off).
    void shutdownSend() noexcept
    {
        if (channel_ && channel_->shutdown(tcp_.socket()))
            return;
        tcp_.shutdownSend();
    }

    /// Sends close_notify if it has not gone yet (best effort), then closes
    /// the socket; pending operations end with `operation_aborted`.
    void close() noexcept
    {
        if (channel_)
            channel_->shutdown(tcp_.socket());
        tcp_.close();
    }

    /// Whether the socket is still open.
    bool isOpen() const noexcept { return tcp_.isOpen(); }

    /// The TCP socket, for its endpoints and options (not for reading or
    /// writing a TLS connection).
    SocketType& socket() noexcept { return tcp_.socket(); }

private:
    using Channel = detail::TlsChannel<SocketType>;

    // The second half of asyncReceive: decrypts what arrived into `buffer`,
    // or receives again when a record is not whole yet.
    template <class Handler>
    void readInto(boost::asio::mutable_buffer buffer, boost::system::error_code ec, Handler&& handler)
    {
        if (ec)
            return handler(ec, std::size_t{0});
        const std::size_t size = readSome(buffer, ec);
        if (ec == boost::asio::error::would_block)
            return asyncReceive(buffer, std::forward<Handler>(handler));
        handler(ec, size);
    }

    std::size_t fail(boost::system::error_code& ec) const noexcept
    {
        ec = setupError_;
        return 0;
    }

    TcpTransport tcp_;
    std::shared_ptr<const TlsContext> context_;  // the SNI callback reads it during the handshake
    std::unique_ptr<Channel> channel_;
    boost::system::error_code setupError_;
};

}  // namespace finch

#endif
