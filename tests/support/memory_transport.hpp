#ifndef FINCH_TESTS_SUPPORT_MEMORY_TRANSPORT_HPP
#define FINCH_TESTS_SUPPORT_MEMORY_TRANSPORT_HPP

// Test support: a transport in memory, for driving finch's WebSocket stream
// without sockets and without real time, deterministically.
//
// - MemoryPipe joins the stream's MemoryTransport to the test, which plays
//   the peer: it writes bytes for the stream to read, reads what the stream
//   wrote, half-closes or resets, and limits how much the stream may read or
//   write in one call (reads split anywhere, short writes) and how much it
//   may have unread (a peer that does not read: writes would block).
// - FailCount makes the N-th read or write fail, in the spirit of Beast's
//   test::fail_count: a test runs its scenario for N = 1, 2, 3 ... until it
//   completes without the failure being reached.
// - ManualClock and ManualTimer: time moves only when the test advances it.
//
// Everything runs on one io_context that the test polls on its own thread.

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/system/error_code.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace finch::test {

class ManualTimer;

// A clock whose time the test sets. Its time points are steady_clock's, so
// the code under test computes with them as with real ones.
class ManualClock {
public:
    using duration = std::chrono::steady_clock::duration;
    using time_point = std::chrono::steady_clock::time_point;

    time_point now() const noexcept { return now_; }

    // Moves time on by `step`: the timers that expire by then complete (their
    // handlers are posted; the test polls to run them).
    void advance(duration step);

    // Ends every pending wait with operation_aborted (a test's teardown).
    void cancelAll();

private:
    friend class ManualTimer;
    time_point now_{std::chrono::hours(1)};
    std::vector<ManualTimer*> timers_;
};

// A timer in ManualClock's time, with the part of Asio's waitable timer that
// finch uses.
class ManualTimer {
public:
    using executor_type = boost::asio::io_context::executor_type;
    using Handler = std::function<void(boost::system::error_code)>;

    ManualTimer(ManualClock& clock, executor_type executor)
        : clock_(clock)
        , executor_(std::move(executor))
    {
        clock_.timers_.push_back(this);
    }

    ~ManualTimer()
    {
        cancel();
        auto& timers = clock_.timers_;
        timers.erase(std::remove(timers.begin(), timers.end(), this), timers.end());
    }

    ManualTimer(const ManualTimer&) = delete;
    ManualTimer& operator=(const ManualTimer&) = delete;

    // As Asio's: a new expiry cancels the pending wait.
    std::size_t expires_at(ManualClock::time_point expiry)
    {
        const std::size_t cancelled = cancel();
        expiry_ = expiry;
        return cancelled;
    }

    std::size_t expires_after(ManualClock::duration after) { return expires_at(clock_.now() + after); }

    ManualClock::time_point expiry() const noexcept { return expiry_; }

    template <class WaitHandler>
    void async_wait(WaitHandler&& handler)
    {
        pending_ = Handler(std::forward<WaitHandler>(handler));
        if (expiry_ <= clock_.now())
            fire({});
    }

    std::size_t cancel()
    {
        if (!pending_)
            return 0;
        fire(boost::asio::error::operation_aborted);
        return 1;
    }

private:
    friend class ManualClock;

    void fire(boost::system::error_code ec)
    {
        boost::asio::post(executor_, [handler = std::exchange(pending_, nullptr), ec] { handler(ec); });
    }

    ManualClock& clock_;
    executor_type executor_;
    ManualClock::time_point expiry_{};
    Handler pending_;
};

inline void ManualClock::advance(duration step)
{
    now_ += step;
    const std::vector<ManualTimer*> timers = timers_;
    for (ManualTimer* timer : timers)
        if (timer->pending_ && timer->expiry_ <= now_)
            timer->fire({});
}

inline void ManualClock::cancelAll()
{
    const std::vector<ManualTimer*> timers = timers_;
    for (ManualTimer* timer : timers)
        timer->cancel();
}

// Makes the N-th read or write of a transport fail (N from 1); 0: never.
struct FailCount {
    std::size_t failAt = 0;
    std::size_t operations = 0;
    bool reached = false;

    bool failNow()
    {
        if (failAt == 0)
            return false;
        if (++operations != failAt)
            return false;
        reached = true;
        return true;
    }
};

// The two directions between a MemoryTransport (the server) and the test
// (its peer).
class MemoryPipe : public std::enable_shared_from_this<MemoryPipe> {
public:
    using executor_type = boost::asio::io_context::executor_type;
    using WaitHandler = std::function<void(boost::system::error_code)>;
    using ReceiveHandler = std::function<void(boost::system::error_code, std::size_t)>;

    MemoryPipe(executor_type executor, ManualClock& clock)
        : executor_(std::move(executor))
        , clock_(clock)
    {
    }

    // The peer's side.

    // Bytes for the server to read, in order.
    void write(const std::string& bytes)
    {
        toServer_ += bytes;
        wakeReader();
    }

    // Everything the server wrote that the peer has not read yet.
    std::string read()
    {
        std::string out;
        out.swap(toPeer_);
        wakeWriter();
        return out;
    }

    // The peer's FIN: the server reads the end of the stream after the bytes before it.
    void closeWrite()
    {
        peerFin_ = true;
        wakeReader();
    }

    // The peer's RST: the server's next read or write fails.
    void reset()
    {
        peerReset_ = true;
        wakeReader();
        wakeWriter();
    }

    // Most bytes the server may have written and the peer not read; past
    // it, the server's writes would block. Unlimited by default.
    void setCapacity(std::size_t bytes)
    {
        capacity_ = bytes;
        wakeWriter();
    }
    // Most bytes one read of the server gets; most one write takes.
    void setReadLimit(std::size_t bytes) { readLimit_ = bytes; }
    void setWriteLimit(std::size_t bytes) { writeLimit_ = bytes; }

    bool serverClosed() const noexcept { return serverClosed_; }
    bool serverSentFin() const noexcept { return serverFin_ || serverClosed_; }
    std::size_t unread() const noexcept { return toPeer_.size(); }

    FailCount failures;

    // The server's side (MemoryTransport).

    std::size_t serverRead(boost::asio::mutable_buffer buffer, boost::system::error_code& ec)
    {
        ec = {};
        if (serverClosed_) {
            ec = boost::asio::error::bad_descriptor;
            return 0;
        }
        if (failures.failNow()) {
            ec = boost::asio::error::connection_reset;
            return 0;
        }
        if (peerReset_) {
            ec = boost::asio::error::connection_reset;
            return 0;
        }
        if (toServer_.empty()) {
            if (peerFin_)
                ec = boost::asio::error::eof;
            else
                ec = boost::asio::error::would_block;
            return 0;
        }
        const std::size_t size = std::min({buffer.size(), readLimit_, toServer_.size()});
        std::copy(toServer_.data(), toServer_.data() + size, static_cast<char*>(buffer.data()));
        toServer_.erase(0, size);
        return size;
    }

    template <class ConstBufferSequence>
    std::size_t serverWrite(const ConstBufferSequence& buffers, boost::system::error_code& ec)
    {
        ec = {};
        if (serverClosed_) {
            ec = boost::asio::error::bad_descriptor;
            return 0;
        }
        if (failures.failNow() || peerReset_) {
            ec = boost::asio::error::broken_pipe;
            return 0;
        }
        if (serverFin_) {
            ec = boost::asio::error::shut_down;
            return 0;
        }
        std::size_t room = capacity_ > toPeer_.size() ? capacity_ - toPeer_.size() : 0;
        room = std::min(room, writeLimit_);
        if (room == 0) {
            ec = boost::asio::error::would_block;
            return 0;
        }
        std::size_t written = 0;
        for (auto it = boost::asio::buffer_sequence_begin(buffers); it != boost::asio::buffer_sequence_end(buffers);
             ++it) {
            const boost::asio::const_buffer buffer(*it);
            const std::size_t take = std::min(buffer.size(), room - written);
            toPeer_.append(static_cast<const char*>(buffer.data()), take);
            written += take;
            if (written == room)
                break;
        }
        return written;
    }

    void serverWaitReadable(WaitHandler handler)
    {
        readable_ = std::move(handler);
        wakeReader();
    }

    void serverWaitWritable(WaitHandler handler)
    {
        writable_ = std::move(handler);
        wakeWriter();
    }

    void serverReceive(boost::asio::mutable_buffer buffer, ReceiveHandler handler)
    {
        receiveBuffer_ = buffer;
        receive_ = std::move(handler);
        wakeReader();
    }

    void serverCancel()
    {
        if (readable_)
            complete(std::exchange(readable_, nullptr), boost::asio::error::operation_aborted);
        if (writable_)
            complete(std::exchange(writable_, nullptr), boost::asio::error::operation_aborted);
        if (receive_)
            completeReceive(boost::asio::error::operation_aborted, 0);
    }

    void serverShutdownSend() { serverFin_ = true; }

    void serverClose()
    {
        serverCancel();
        serverClosed_ = true;
    }

    bool serverOpen() const noexcept { return !serverClosed_; }

    executor_type executor() const noexcept { return executor_; }
    ManualClock& clock() noexcept { return clock_; }

private:
    bool readableNow() const noexcept { return !toServer_.empty() || peerFin_ || peerReset_; }

    void wakeReader()
    {
        if (!readableNow())
            return;
        if (readable_)
            complete(std::exchange(readable_, nullptr), {});
        if (receive_) {
            boost::system::error_code ec;
            const std::size_t size = serverRead(receiveBuffer_, ec);
            completeReceive(ec, size);
        }
    }

    void wakeWriter()
    {
        if (writable_ && (toPeer_.size() < capacity_ || peerReset_))
            complete(std::exchange(writable_, nullptr), {});
    }

    void complete(WaitHandler handler, boost::system::error_code ec)
    {
        boost::asio::post(executor_, [handler = std::move(handler), ec] { handler(ec); });
    }

    void completeReceive(boost::system::error_code ec, std::size_t size)
    {
        boost::asio::post(executor_, [handler = std::exchange(receive_, nullptr), ec, size] { handler(ec, size); });
    }

    executor_type executor_;
    ManualClock& clock_;
    std::string toServer_;
    std::string toPeer_;
    std::size_t capacity_ = std::numeric_limits<std::size_t>::max();
    std::size_t readLimit_ = std::numeric_limits<std::size_t>::max();
    std::size_t writeLimit_ = std::numeric_limits<std::size_t>::max();
    bool peerFin_ = false;
    bool peerReset_ = false;
    bool serverFin_ = false;
    bool serverClosed_ = false;
    WaitHandler readable_;
    WaitHandler writable_;
    ReceiveHandler receive_;
    boost::asio::mutable_buffer receiveBuffer_;
};

// The server's end of a MemoryPipe, as a finch transport (see
// finch::TcpTransport for what a transport offers). `SendsBesideReceive`
// picks which of the stream's two write disciplines runs.
template <bool SendsBesideReceive>
class BasicMemoryTransport {
public:
    using executor_type = boost::asio::io_context::executor_type;
    using ClockType = ManualClock;
    using TimerType = ManualTimer;
    static constexpr bool sendsBesideReceive = SendsBesideReceive;

    explicit BasicMemoryTransport(std::shared_ptr<MemoryPipe> pipe)
        : pipe_(std::move(pipe))
    {
    }

    executor_type get_executor() noexcept { return pipe_->executor(); }
    ManualClock::time_point now() const noexcept { return pipe_->clock().now(); }
    std::unique_ptr<ManualTimer> makeTimer()
    {
        return std::make_unique<ManualTimer>(pipe_->clock(), pipe_->executor());
    }

    std::size_t readSome(boost::asio::mutable_buffer buffer, boost::system::error_code& ec)
    {
        return pipe_->serverRead(buffer, ec);
    }

    template <class ConstBufferSequence>
    std::size_t writeSome(const ConstBufferSequence& buffers, boost::system::error_code& ec)
    {
        return pipe_->serverWrite(buffers, ec);
    }

    template <class Handler>
    void asyncReceive(boost::asio::mutable_buffer buffer, Handler&& handler)
    {
        pipe_->serverReceive(buffer, std::forward<Handler>(handler));
    }

    template <class Handler>
    void asyncWaitReadable(Handler&& handler)
    {
        pipe_->serverWaitReadable(std::forward<Handler>(handler));
    }

    template <class Handler>
    void asyncWaitWritable(Handler&& handler)
    {
        pipe_->serverWaitWritable(std::forward<Handler>(handler));
    }

    void cancel() { pipe_->serverCancel(); }
    void shutdownSend() { pipe_->serverShutdownSend(); }
    void close() { pipe_->serverClose(); }
    bool isOpen() const noexcept { return pipe_->serverOpen(); }

private:
    std::shared_ptr<MemoryPipe> pipe_;
};

using MemoryTransport = BasicMemoryTransport<true>;

}  // namespace finch::test

#endif
