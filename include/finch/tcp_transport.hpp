#ifndef FINCH_TCP_TRANSPORT_HPP
#define FINCH_TCP_TRANSPORT_HPP

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/basic_stream_socket.hpp>
#include <boost/asio/basic_waitable_timer.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <utility>

namespace finch {

/// The plain TCP transport: what a connection of `finch::SocketManager`
/// reads from and writes to, below the WebSocket protocol.
///
/// A transport is the first template parameter of `BasicSocketManager` and
/// `BasicSocket`. finch drives it by readiness: it tries a non-blocking
/// operation at once and waits only when the operation would block. Every
/// transport offers the members of this one:
/// - `executor_type`, `get_executor()`: a strand (or an executor run by one
///   thread); every operation but `writeSome` runs on it, and so do the
///   connection's callbacks. These two keep Asio's names, the only
///   exception to finch's naming rule: Asio's `associated_executor`, and so
///   every composed operation and `bind_executor`, looks for them by name;
/// - `SocketType`: the socket the listener accepts, which the transport is
///   made from;
/// - `ClockType`, `TimerType`, `now()`, `makeTimer()`: the time the
///   connection's deadlines (keepalive, closing, requests) are measured in;
/// - `readSome` and `writeSome`: one non-blocking attempt each, reporting
///   `boost::asio::error::would_block` when nothing can be done yet;
/// - `asyncReceive`, `asyncWaitReadable`, `asyncWaitWritable`: wait for
///   bytes or for room (a receive also takes the bytes);
/// - `cancel`, `shutdownSend`, `close`, `isOpen`;
/// - `sendsBesideReceive`: whether `writeSome` may run on another thread
///   than the strand, at the same time as `readSome` and `shutdownSend`
///   (see below), while no other operation runs.
///
/// A transport may also offer `prefetch(int step)`: brings the state a
/// `writeSome` touches beyond the transport object itself (a TLS channel
/// and its OpenSSL object) into the CPU cache, ahead of the write; step 0
/// first, each next step following a pointer that the step before brought
/// in. A broadcast calls it for the receivers after the one it writes to.
/// It must only read what does not change while the connection lives, so
/// that any thread may call it. The plain transport has nothing to add.
///
/// @par Thread Safety
/// Not thread-safe in general: finch calls it from the connection's strand,
/// except `writeSome`, which finch may call from the thread that sends a
/// message (when the connection has nothing else to write) while the strand
/// reads, and always under the connection's write lock, which the strand
/// also holds around every operation other than `readSome` and
/// `shutdownSend`. Asio documents that concurrent synchronous `send`,
/// `receive` and `shutdown` calls on one socket are safe (see the Thread
/// Safety note of `boost::asio::basic_stream_socket`), so the off-strand
/// send never overlaps anything else.
class TcpTransport {
public:
    /// Where the connection's operations and callbacks run.
    using executor_type = boost::asio::strand<boost::asio::any_io_executor>;

    /// The socket, with the strand as its executor type: Asio copies the
    /// executor into every operation, and a strand wrapped in an
    /// `any_io_executor` would cost a heap allocation each time.
    using SocketType = boost::asio::basic_stream_socket<boost::asio::ip::tcp, executor_type>;

    /// The clock of timers and deadlines.
    using ClockType = std::chrono::steady_clock;

    /// A timer on the strand.
    using TimerType =
        boost::asio::basic_waitable_timer<ClockType, boost::asio::wait_traits<ClockType>, executor_type>;

    /// @deprecated The old name of `SocketType`; removed in the next release.
    using socket_type [[deprecated("use SocketType")]] = SocketType;
    /// @deprecated The old name of `ClockType`; removed in the next release.
    using clock_type [[deprecated("use ClockType")]] = ClockType;
    /// @deprecated The old name of `TimerType`; removed in the next release.
    using timer_type [[deprecated("use TimerType")]] = TimerType;

    /// `writeSome` may run beside `readSome` (see the class's Thread Safety).
    static constexpr bool sendsBesideReceive = true;

    /// Takes a connected socket: turns off Nagle's algorithm (a message that
    /// leaves in more than one segment would wait for the peer's delayed ACK,
    /// about 40 ms on Linux) and makes it non-blocking.
    explicit TcpTransport(SocketType socket) noexcept
        : socket_(std::move(socket))
    {
        boost::system::error_code ignored;
        socket_.set_option(boost::asio::ip::tcp::no_delay(true), ignored);
        socket_.non_blocking(true, ignored);
    }

    /// The connection's strand (the name Asio's I/O objects use).
    executor_type get_executor() noexcept { return socket_.get_executor(); }

    /// The time now, on `ClockType`.
    ClockType::time_point now() const noexcept { return ClockType::now(); }

    /// A new timer on the strand; allocated, so that a connection that never
    /// needs one pays nothing for it.
    std::unique_ptr<TimerType> makeTimer() { return std::make_unique<TimerType>(socket_.get_executor()); }

    /// One `recv`: the bytes available now, `would_block` if there are none,
    /// `eof` once the peer has closed.
    std::size_t readSome(boost::asio::mutable_buffer buffer, boost::system::error_code& ec)
    {
        return socket_.read_some(buffer, ec);
    }

    /// One gathered `send` (writev) of as much as the kernel takes now.
    template <class ConstBufferSequence>
    std::size_t writeSome(const ConstBufferSequence& buffers, boost::system::error_code& ec)
    {
        return socket_.write_some(buffers, ec);
    }

    /// Receives into `buffer` once bytes arrive: Asio's reactor completes it
    /// straight from epoll's report, without a wait and a read of its own.
    template <class Handler>
    void asyncReceive(boost::asio::mutable_buffer buffer, Handler&& handler)
    {
        socket_.async_receive(buffer, std::forward<Handler>(handler));
    }

    /// Calls `handler(error_code)` once bytes, or the end of the stream, can be read.
    template <class Handler>
    void asyncWaitReadable(Handler&& handler)
    {
        socket_.async_wait(SocketType::wait_read, std::forward<Handler>(handler));
    }

    /// Calls `handler(error_code)` once the kernel takes bytes again.
    template <class Handler>
    void asyncWaitWritable(Handler&& handler)
    {
        socket_.async_wait(SocketType::wait_write, std::forward<Handler>(handler));
    }

    /// Ends the pending waits and receives with `operation_aborted`.
    void cancel() noexcept
    {
        boost::system::error_code ignored;
        socket_.cancel(ignored);
    }

    /// Sends a FIN: the peer reads the end of the stream once it has read
    /// what was sent before.
    void shutdownSend() noexcept
    {
        boost::system::error_code ignored;
        socket_.shutdown(SocketType::shutdown_send, ignored);
    }

    /// Closes the socket; pending operations end with `operation_aborted`.
    void close() noexcept
    {
        boost::system::error_code ignored;
        socket_.shutdown(SocketType::shutdown_both, ignored);
        socket_.close(ignored);
    }

    /// Whether the socket is still open (close() has not run).
    bool isOpen() const noexcept { return socket_.is_open(); }

    /// The socket itself, for its endpoints and options.
    SocketType& socket() noexcept { return socket_; }

private:
    SocketType socket_;
};

}  // namespace finch

#endif
