#ifndef FINCH_DETAIL_WEBSOCKET_OUTBOX_HPP
#define FINCH_DETAIL_WEBSOCKET_OUTBOX_HPP

#include <finch/detail/websocket/close.hpp>
#include <finch/detail/websocket/out_frame.hpp>
#include <finch/detail/websocket/write_queue.hpp>
#include <finch/options.hpp>

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/system/error_code.hpp>

#include <array>
#include <atomic>
#include <cassert>
#include <cstddef>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace finch::detail {

// Where a WebSocket connection stands, as its senders see it.
enum class Phase : unsigned char {
    upgrading,  // the 101 is not out yet; nothing may be sent
    open,  // messages may be sent
    closing,  // a close frame is queued or sent; no message may be sent any more
    closed,  // the transport is closed
};

// What a connection has to write, and who may write it. Threads that send
// meet the connection's strand here, so the rule of who owns what lives in
// this one class:
//
// - `mutex_` guards the phase, the queue, the frames set aside (the 101, the
//   close frame), the byte counts and the flags. Any thread takes it, never
//   across user code or a wait.
// - `writing_` is the write claim. Whoever sets it from false to true (under
//   `mutex_`) owns `inFlight_` and `inFlightOffset_`, the frames handed to the
//   transport and how far the first one got, until it sets it back to false
//   (under `mutex_`). The strand claims it to run the write loop, and holds it
//   across the loop's waits and posts. A sender that finds the loop idle
//   (not writing, not corked, nothing queued) claims it inside its locked
//   section to write at once, and either gives it back before unlocking (all
//   written) or hands it to the strand with a post of the write loop (the
//   transport took a part, or nothing).
// - `corked_`: the strand is dispatching the messages of one read and will
//   run the write loop afterwards, so senders only queue.
// - Only a transport whose `sendsBesideReceive` is true lets a sender write
//   off the strand; with any other, senders only queue and post the loop.
//
// Debug builds assert the rule at every touch of `inFlight_`.
class Outbox {
public:
    // What became of a frame a sender offered: a set of these bits, one byte,
    // so that the common outcome (`accepted` alone: sent, or queued for a
    // write loop that runs) costs the sender a single comparison.
    using Offer = unsigned char;
    static constexpr Offer accepted = 1;  // sent, or queued
    static constexpr Offer startLoop = 2;  // the sender claimed the write loop for the strand: post it
    static constexpr Offer overflow = 4;  // the queue overflowed: the connection is closing (closeConnection)
    static constexpr Offer firstDrops = 8;  // dropOldest began a burst of drops: report it

    // Whether a close was started, and whether its caller must post the write loop.
    struct CloseStart {
        bool started = false;
        bool startLoop = false;
    };

    // The result of one round of the write loop.
    enum class Round {
        idle,  // nothing left to write; the claim is given back
        blocked,  // the transport took only a part: wait until it is writable
        closeLeft,  // the close frame has just left whole
        more,  // everything taken was written, and more is queued
        failed,  // the transport failed
    };

    bool isOpen() const
    {
        std::lock_guard lock(mutex_);
        return phase_ == Phase::open;
    }

    Phase phase() const
    {
        std::lock_guard lock(mutex_);
        return phase_;
    }

    // Bytes queued and not yet taken by the transport, the frames being
    // written included.
    std::size_t bufferedAmount() const
    {
        std::lock_guard lock(mutex_);
        return queue_.bytes() + inFlightBytes_;
    }

    // Strand: the connection is open. `handshake` (the 101) leaves first, in
    // the same write as what is sent until uncork(): the strand holds the
    // claim and the cork from here.
    void open(OutFrame handshake)
    {
        std::lock_guard lock(mutex_);
        handshake_ = std::move(handshake);
        phase_ = Phase::open;
        writing_ = true;
        corked_ = true;
    }

    // Any thread: offers a frame. When the loop is idle and the transport
    // allows, writes it at once on this thread (one system call).
    template <class Transport>
    Offer offer(Transport& transport, const OutFrame& frame, std::size_t maxQueuedBytes, OverflowPolicy policy)
    {
        std::lock_guard lock(mutex_);
        LockOwner owner(*this);
        if (phase_ != Phase::open)
            return 0;
        const bool idle = !writing_ && !corked_;
        if (idle && queue_.empty()) {
            writing_ = true;
            if constexpr (Transport::sendsBesideReceive) {
                if (sendNow(transport, frame)) {
                    writing_ = false;
                    return accepted;
                }
            } else {
                queue_.push(frame);
            }
            return accepted | startLoop;
        }
        Offer result = accepted;
        if (makeRoomFor(frame.size(), maxQueuedBytes, policy, result))
            return result;
        queue_.push(frame);
        if (idle) {
            writing_ = true;
            result |= startLoop;
        }
        return result;
    }

    // Any thread: queues `closeFrame` to leave after what is queued, unless
    // the connection is closing already.
    CloseStart close(OutFrame closeFrame)
    {
        std::lock_guard lock(mutex_);
        if (phase_ != Phase::open)
            return {};
        phase_ = Phase::closing;
        closeFrame_ = std::move(closeFrame);
        return {true, claimIfIdle()};
    }

    // Strand: a control frame the connection itself sends (a pong, the
    // keepalive ping); refused before the connection is open and once the
    // close frame is out. Control frames wait whole in line, unless writes
    // are blocked (see WriteQueue::pushControl). Returns whether the strand
    // must now run the write loop (it claimed it).
    bool pushControl(OutFrame frame)
    {
        std::lock_guard lock(mutex_);
        if (phase_ == Phase::closed || phase_ == Phase::upgrading || closeSent_)
            return false;
        queue_.pushControl(std::move(frame), inFlightBytes_ > 0);
        return claimIfIdle();
    }

    // Runs `operation` under the lock that senders write under: see
    // TcpTransport's Thread Safety.
    template <class Operation>
    void underLock(Operation&& operation)
    {
        std::lock_guard lock(mutex_);
        operation();
    }

    // Strand: the peer's close frame arrived. Queues the answer (`answer`)
    // after what is queued, unless a close frame of ours is queued or out
    // already. Returns whether ours has left whole, so the transport can close.
    bool peerClosed(OutFrame answer)
    {
        std::lock_guard lock(mutex_);
        if (!closeFrame_.buffer && !closeSent_) {
            phase_ = Phase::closing;
            closeFrame_ = std::move(answer);
        }
        return closeSent_ && !closeInFlight_;
    }

    // Strand: the peer broke the protocol. `closeFrame` replaces a close
    // frame of ours that has not left yet: it tells the peer what went wrong.
    // Returns whether a close frame of ours has left whole already.
    bool failed(OutFrame closeFrame)
    {
        std::lock_guard lock(mutex_);
        if (!closeSent_) {
            phase_ = Phase::closing;
            closeFrame_ = std::move(closeFrame);
        }
        return closeSent_ && !closeInFlight_;
    }

    // Strand: the messages of one read are being dispatched; senders queue.
    void cork()
    {
        std::lock_guard lock(mutex_);
        corked_ = true;
    }

    // Strand: the end of a cork. Returns whether the strand must now run the
    // write loop (it claimed it, or held it already since open()).
    bool uncork(bool claimHeld)
    {
        std::lock_guard lock(mutex_);
        corked_ = false;
        return claimHeld || claimIfIdle();
    }

    // Strand, claim held: hands what is waiting to the transport in one
    // gathered write (the 101 first, then up to `gatherLimit` queued frames,
    // then, once the queue is empty, the close frame) and keeps what it did
    // not take for the next round.
    template <class Transport>
    Round writeRound(Transport& transport, boost::system::error_code& ec)
    {
        assert(writing_);
        if (inFlight_.empty()) {
            std::lock_guard lock(mutex_);
            LockOwner owner(*this);
            if (phase_ == Phase::closed) {
                writing_ = false;
                return Round::idle;
            }
            if (handshake_.buffer)
                inFlight_.push_back(std::exchange(handshake_, {}));
            while (!queue_.empty() && inFlight_.size() < gatherLimit)
                inFlight_.push_back(queue_.pop());
            if (inFlight_.empty() && closeFrame_.buffer && !closeSent_) {
                inFlight_.push_back(std::move(closeFrame_));
                closeSent_ = true;
                closeInFlight_ = true;
            }
            if (inFlight_.empty()) {
                writing_ = false;
                inFlightBytes_ = 0;
                return Round::idle;
            }
            inFlightBytes_ = 0;
            for (const OutFrame& frame : inFlight_)
                inFlightBytes_ += frame.size();
            inFlightOffset_ = 0;
        }
        std::array<boost::asio::const_buffer, gatherLimit> buffers;
        std::size_t count = 0;
        for (std::size_t i = 0; i < inFlight_.size(); ++i) {
            const std::string_view bytes = inFlight_[i].bytes().substr(i == 0 ? inFlightOffset_ : 0);
            buffers[count++] = boost::asio::buffer(bytes.data(), bytes.size());
        }
        std::size_t written = transport.writeSome(BufferRange{buffers.data(), buffers.data() + count}, ec);
        if (ec == boost::asio::error::would_block) {
            ec = {};
            written = 0;
        } else if (ec) {
            return Round::failed;
        }
        settle(written);
        if (!inFlight_.empty())
            return Round::blocked;
        if (closeInFlight_) {
            closeInFlight_ = false;
            return Round::closeLeft;
        }
        return Round::more;
    }

    // Strand: the end. Closes the transport in the same locked step as the
    // phase changes, so a sender on another thread either wrote before it or
    // sees the connection closed and reports its frame as not sent; and a
    // send never reaches a closed descriptor, nor one the system has given
    // to a new connection meanwhile. False if it had ended already.
    template <class Transport>
    bool finish(Transport& transport)
    {
        std::lock_guard lock(mutex_);
        LockOwner owner(*this);
        if (phase_ == Phase::closed)
            return false;
        transport.close();
        phase_ = Phase::closed;
        queue_.clear();
        handshake_ = {};
        closeFrame_ = {};
        inFlightBytes_ = 0;
        // Whoever holds the claim is the strand (senders hold it only inside
        // their locked section), so these may go.
        inFlight_.clear();
        inFlight_.shrink_to_fit();
        return true;
    }

    // Strand: how many messages dropOldest dropped since the last call.
    std::size_t takeDrops()
    {
        std::lock_guard lock(mutex_);
        return std::exchange(droppedUnreported_, 0);
    }

    // Whether the connection is closing because its queue overflowed
    // (closeConnection); set once, under the lock.
    bool overflowed() const
    {
        std::lock_guard lock(mutex_);
        return overflowed_;
    }

    // Whether our close frame has left the queue (it may still be in flight).
    bool closeSent() const
    {
        std::lock_guard lock(mutex_);
        return closeSent_;
    }

private:
    static constexpr std::size_t gatherLimit = 64;

    // The first `count` buffers of an array, as a buffer sequence, so that a
    // gathered write needs no allocation.
    struct BufferRange {
        const boost::asio::const_buffer* first;
        const boost::asio::const_buffer* last;
        const boost::asio::const_buffer* begin() const noexcept { return first; }
        const boost::asio::const_buffer* end() const noexcept { return last; }
    };

    // Records, in debug builds, which thread holds mutex_, for the asserts
    // on inFlight_.
    class LockOwner {
    public:
        explicit LockOwner(Outbox& outbox) noexcept
            : outbox_(outbox)
        {
#ifndef NDEBUG
            outbox_.lockedBy_ = std::this_thread::get_id();
#endif
        }
        ~LockOwner()
        {
#ifndef NDEBUG
            outbox_.lockedBy_ = std::thread::id();
#endif
        }
        LockOwner(const LockOwner&) = delete;
        LockOwner& operator=(const LockOwner&) = delete;

    private:
        [[maybe_unused]] Outbox& outbox_;  // read only by the NDEBUG-less checks
    };

    // inFlight_ may be touched by the claim's holder: the strand while it
    // holds the claim, or a sender inside its locked section.
    void assertOwnsInFlight() const noexcept
    {
#ifndef NDEBUG
        assert(writing_ || lockedBy_ == std::this_thread::get_id());
#endif
    }

    // Under mutex_: claims the write loop for the strand if nobody runs it
    // and there is something to write.
    bool claimIfIdle()
    {
        if (writing_ || corked_)
            return false;
        if (queue_.empty() && !(closeFrame_.buffer && !closeSent_))
            return false;
        writing_ = true;
        return true;
    }

    // Under mutex_, claim held, nothing queued or in flight: hands `frame` to
    // the transport now. What it does not take is left for the write loop;
    // returns whether it took everything.
    template <class Transport>
    bool sendNow(Transport& transport, const OutFrame& frame)
    {
        assertOwnsInFlight();
        const std::string_view bytes = frame.bytes();
        boost::system::error_code ec;
        const std::size_t written = transport.writeSome(boost::asio::buffer(bytes.data(), bytes.size()), ec);
        if (!ec && written == bytes.size())
            return true;
        if (!ec && written > 0) {
            // Begun on the wire: it may no longer be dropped
            // (OverflowPolicy::dropOldest), and it goes on from here.
            inFlight_.push_back(frame);
            inFlightOffset_ = written;
            inFlightBytes_ = bytes.size() - written;
        } else {
            queue_.push(frame);  // would block, or failed: the write loop meets it again
        }
        return false;
    }

    // Under mutex_: applies Options::maxQueuedBytes before `incoming` more
    // bytes are queued. Returns whether the frame must not be queued: the
    // connection overflowed and is now closing (closeConnection).
    bool makeRoomFor(std::size_t incoming, std::size_t maxQueuedBytes, OverflowPolicy policy, Offer& result)
    {
        // A message alone is always taken: the limit bounds the backlog, not
        // the size of what the application chooses to send.
        const std::size_t pending = queue_.bytes() + inFlightBytes_;
        if (pending == 0 || pending + incoming <= maxQueuedBytes)
            return false;
        if (policy == OverflowPolicy::closeConnection) {
            // The client is not reading: what is queued would never reach it
            // in time, so the close frame goes next.
            overflowed_ = true;
            phase_ = Phase::closing;
            closeFrame_ = controlFrame(Opcode::close, closePayload(closeCode::tryAgainLater, "outgoing queue full"));
            queue_.clear();
            result = static_cast<Offer>(overflow | (claimIfIdle() ? startLoop : 0));
            return true;
        }
        const std::size_t dropped = queue_.dropOldest(incoming + inFlightBytes_, maxQueuedBytes);
        // Reported in batches: one report per burst, not per message.
        if (droppedUnreported_ == 0 && dropped > 0)
            result |= firstDrops;
        droppedUnreported_ += dropped;
        return false;
    }

    // Strand, claim held: drops the frames the transport took whole and
    // notes how far into the next one it got.
    void settle(std::size_t written)
    {
        assertOwnsInFlight();
        std::size_t done = 0;
        while (done < inFlight_.size()) {
            const std::size_t left = inFlight_[done].size() - (done == 0 ? inFlightOffset_ : 0);
            if (written < left)
                break;
            written -= left;
            ++done;
            if (done == 1)
                inFlightOffset_ = 0;
        }
        if (done > 0) {
            inFlight_.erase(inFlight_.begin(), inFlight_.begin() + static_cast<std::ptrdiff_t>(done));
            inFlightOffset_ = 0;
            // A burst grew it; an idle connection should not keep that.
            if (inFlight_.empty() && inFlight_.capacity() > 8)
                std::vector<OutFrame>().swap(inFlight_);
        }
        inFlightOffset_ += written;
        std::size_t left = 0;
        for (std::size_t i = 0; i < inFlight_.size(); ++i)
            left += inFlight_[i].size() - (i == 0 ? inFlightOffset_ : 0);
        std::lock_guard lock(mutex_);
        inFlightBytes_ = left;
    }

    // Claim holder only (see the class comment).
    std::vector<OutFrame> inFlight_;  // handed to the transport, maybe in part
    std::size_t inFlightOffset_ = 0;  // bytes of inFlight_.front() already written
    bool closeInFlight_ = false;  // the close frame is in inFlight_

    mutable std::mutex mutex_;
#ifndef NDEBUG
    std::thread::id lockedBy_;
#endif
    // Guarded by mutex_. In debug builds atomic, so that the claim's holder
    // may assert it without the lock; a plain bool otherwise, since every
    // write is under the lock and an atomic store would cost a fence per
    // message (a locked instruction on x86).
#ifndef NDEBUG
    std::atomic<bool> writing_{false};
#else
    bool writing_ = false;
#endif
    Phase phase_ = Phase::upgrading;
    bool corked_ = false;
    bool closeSent_ = false;  // the close frame has left the queue
    bool overflowed_ = false;
    WriteQueue queue_;
    OutFrame handshake_;  // the 101 until the write loop takes it: never dropped nor counted
    OutFrame closeFrame_;  // sent once the queue is empty
    std::size_t inFlightBytes_ = 0;  // bytes of inFlight_ not yet written
    std::size_t droppedUnreported_ = 0;  // dropped by OverflowPolicy::dropOldest
};

}  // namespace finch::detail

#endif
