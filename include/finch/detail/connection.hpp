#ifndef FINCH_DETAIL_CONNECTION_HPP
#define FINCH_DETAIL_CONNECTION_HPP

#include <finch/detail/dispatch.hpp>
#include <finch/detail/manager_state.hpp>
#include <finch/detail/pending_requests.hpp>
#include <finch/detail/reply_handler.hpp>
#include <finch/detail/room_membership.hpp>
#include <finch/detail/socket_id.hpp>
#include <finch/detail/write_queue.hpp>
#include <finch/envelope.hpp>
#include <finch/error.hpp>
#include <finch/http.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace finch::detail {

template <class Stream, class UserData>
struct ManagerState;

// The protocol allows at most 123 bytes of reason in a close frame. Cut at a
// UTF-8 character boundary so the peer does not fail on a broken character.
inline std::string_view clampCloseReason(std::string_view reason) noexcept
{
    constexpr std::size_t limit = 123;
    if (reason.size() <= limit)
        return reason;
    std::size_t size = limit;
    while (size > 0 && (static_cast<unsigned char>(reason[size]) & 0xC0) == 0x80)
        --size;
    return reason.substr(0, size);
}

// One upgraded WebSocket connection.
//
// Everything that touches the Beast stream runs on the connection's strand (the
// stream's executor), and so does every user callback: one connection's
// callbacks never overlap. Public members are callable from any thread: they
// take `mutex_` only to update the phase and the write queue, never across I/O
// or user code, and hand the work to the strand with a post.
//
// Lifetime: pending operations hold a shared pointer to the connection; so do
// user's `Socket` handles. The registry holds a plain pointer between a
// successful upgrade and the end of `finish()`; the manager's room index
// between a join and the matching leave, at the latest in `finish()`.
//
// Whoever creates a connection has taken one of the manager's connection
// slots for it; the connection gives it back as soon as it has ended.
template <class Stream, class UserData>
class Connection : public std::enable_shared_from_this<Connection<Stream, UserData>> {
public:
    using State = ManagerState<Stream, UserData>;
    using socket_type = BasicSocket<Stream, UserData>;
    using event_type = BasicSocketEvent<socket_type>;
    using executor_type = typename boost::beast::websocket::stream<Stream>::executor_type;

    // `stream`'s executor must be a strand (or an io_context run by one
    // thread): it is where the connection's handlers and callbacks run.
    Connection(std::shared_ptr<State> state, Stream&& stream, Request request, std::string userId, UserData data)
        : ws_(std::move(stream))
        , executor_(ws_.get_executor())
        , state_(std::move(state))
        , request_(std::move(request))
        , id_(newSocketId())
        , userId_(std::move(userId))
        , data_(std::move(data))
    {
        // A message that leaves in more than one segment would otherwise wait
        // for the peer's delayed ACK (about 40 ms on Linux).
        boost::system::error_code ignored;
        boost::beast::get_lowest_layer(ws_).socket().set_option(boost::asio::ip::tcp::no_delay(true), ignored);
    }

    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    // Only when the connection never ran (its io_context was stopped first).
    ~Connection()
    {
        releaseSlot();
        // finish() has normally done this; the room index must never keep a
        // pointer to a destroyed connection, however it ended.
        membership_.close([&](const std::string& room) { state_->rooms.remove(room, *this); });
    }

    // Answers the upgrade request; on success runs onConnect and starts reading.
    void run()
    {
        boost::asio::post(executor_, [self = this->shared_from_this()] { self->accept(); });
    }

    const std::string& id() const noexcept { return id_; }
    const Request& request() const noexcept { return request_; }
    const std::string& userId() const noexcept { return userId_; }
    UserData& data() noexcept { return data_; }
    const executor_type& executor() const noexcept { return executor_; }

    bool isOpen() const
    {
        std::lock_guard lock(mutex_);
        return phase_ == Phase::open;
    }

    bool send(const nlohmann::json& data, std::string_view path, int status)
    {
        if (!isOpen())
            return false;  // spare the serialization
        return enqueueOwnEnvelope(encodeEnvelope(path, status, nowMilliseconds(), data));
    }

    // Queues an envelope that may be shared with other receivers.
    bool enqueueEnvelope(const SharedText& envelope)
    {
        if (state_->options.includeClientId)
            return enqueue(std::make_shared<const std::string>(withClientId(*envelope, id_)));
        return enqueue(envelope);
    }

    // Queues an envelope meant for this connection alone: no sharing to
    // preserve, so the client id, if asked for, is added without a copy of
    // a shared original.
    bool enqueueOwnEnvelope(std::string envelope)
    {
        if (state_->options.includeClientId)
            envelope = withClientId(envelope, id_);
        return enqueue(std::make_shared<const std::string>(std::move(envelope)));
    }

    bool close(boost::beast::websocket::close_code code, std::string_view reason)
    {
        bool startWriting = false;
        {
            std::lock_guard lock(mutex_);
            if (phase_ != Phase::open)
                return false;
            phase_ = Phase::closing;
            closeReason_ = boost::beast::websocket::close_reason(code, clampCloseReason(reason));
            // Else the write loop sends the close frame once the queue is drained.
            startWriting = !writing_;
            writing_ = true;
        }
        boost::asio::post(executor_, [self = this->shared_from_this(), startWriting] {
            self->armCloseDeadline();
            if (startWriting)
                self->writeNext();
        });
        return true;
    }

    bool join(std::string room)
    {
        if (!isOpen())
            return false;
        const auto result = membership_.join(std::move(room), static_cast<bool>(state_->root.onJoin),
            [&](const std::string& name) { state_->rooms.add(name, *this); });
        if (result.schedule)
            scheduleRoomChanges();
        return result.changed;
    }

    // Also while closing: leaving is never harmful.
    bool leave(std::string_view room)
    {
        const auto result = membership_.leave(room, static_cast<bool>(state_->root.onLeave),
            [&](const std::string& name) { state_->rooms.remove(name, *this); });
        if (result.schedule)
            scheduleRoomChanges();
        return result.changed;
    }

    std::vector<std::string> rooms() const { return membership_.names(); }
    bool inRoom(std::string_view room) const { return membership_.contains(room); }

    // Answers `message`, a request as a handler received it.
    bool reply(const nlohmann::json& message, const nlohmann::json& data, int status)
    {
        if (!isOpen())
            return false;
        static const nlohmann::json none;
        std::string_view path;
        const nlohmann::json* id = &none;
        if (message.is_object()) {
            const auto foundPath = message.find("path");
            if (foundPath != message.end() && foundPath->is_string())
                path = foundPath->template get_ref<const std::string&>();
            const auto foundId = message.find("id");
            if (foundId != message.end() && (foundId->is_string() || foundId->is_number()))
                id = &*foundId;
        }
        return enqueueOwnEnvelope(encodeReplyEnvelope(path, status, nowMilliseconds(), data, *id));
    }

    // Sends a request to the client; `callback` runs exactly once (see
    // PendingRequests), on the strand.
    void request(
        std::string_view path, const nlohmann::json& data, std::chrono::milliseconds timeout, ReplyCallback callback)
    {
        const std::uint64_t id = isOpen() ? requests_.add(callback) : 0;
        if (id == 0)
            return completeLater(std::move(callback), error::connection_closed);
        if (!enqueueOwnEnvelope(encodeEnvelope(path, 200, nowMilliseconds(), data, id))) {
            // Closing, or its queue overflowed just now: no answer can come.
            if (auto entry = requests_.take(id))
                completeLater(std::move(entry->callback), error::connection_closed);
            return;
        }
        boost::asio::post(
            executor_, [self = this->shared_from_this(), id, timeout] { self->armRequestTimer(id, timeout); });
    }

    // Runs `call(socket)` on the strand, unless the connection ends first.
    template <class Call>
    bool runOnStrand(Call&& call)
    {
        {
            std::lock_guard lock(mutex_);
            if (phase_ == Phase::closed)
                return false;
        }
        boost::asio::post(executor_, [self = this->shared_from_this(), call = std::forward<Call>(call)]() mutable {
            if (!self->registered_)
                return;  // ended meanwhile: nothing runs after onDisconnect
            socket_type socket(self);
            self->guarded(nullptr, {}, nullptr, [&] { call(socket); });
        });
        return true;
    }

    // Bytes queued for this connection and not yet taken by the kernel,
    // the message being written included.
    std::size_t bufferedAmount() const
    {
        std::lock_guard lock(mutex_);
        return queue_.bytes() + inFlightBytes_;
    }

    // Holds `watcher` until this connection has ended and its onDisconnect has
    // run (see CompletionGuard). Call only while the connection is in the
    // registry, which guarantees it has not ended yet.
    void holdUntilEnded(std::shared_ptr<void> watcher)
    {
        if (!watcher)
            return;
        std::lock_guard lock(mutex_);
        endWatchers_.push_back(std::move(watcher));
    }

private:
    enum class Phase : unsigned char { upgrading, open, closing, closed };

    void accept()
    {
        namespace websocket = boost::beast::websocket;
        // The websocket stream keeps its own timers; the TCP stream's must be off.
        boost::beast::get_lowest_layer(ws_).expires_never();
        ws_.set_option(timeouts(state_->options.handshakeTimeout));
        ws_.read_message_max(state_->options.maxMessageSize);
        // One frame per message: fragmenting would cost a write per fragment.
        ws_.auto_fragment(false);
        ws_.text(true);
        ws_.async_accept(
            request_, [self = this->shared_from_this()](boost::system::error_code ec) { self->onAccept(ec); });
    }

    void onAccept(boost::system::error_code ec)
    {
        if (ec) {
            {
                std::lock_guard lock(mutex_);
                phase_ = Phase::closed;
            }
            releaseSlot();
            return;
        }
        {
            std::lock_guard lock(mutex_);
            phase_ = Phase::open;
        }
        if (state_->detached || !state_->registry.add(*this)) {
            // The manager is stopping: the upgrade went through, so say goodbye
            // properly, without ever telling the application about this client.
            {
                std::lock_guard lock(mutex_);
                phase_ = Phase::closing;
                writing_ = true;
            }
            armCloseDeadline();
            ws_.async_close(
                boost::beast::websocket::close_code::going_away, [self = this->shared_from_this()](auto) {
                    {
                        std::lock_guard lock(self->mutex_);
                        self->phase_ = Phase::closed;
                    }
                    self->cancelCloseDeadline();
                    self->releaseSlot();
                });
            return;
        }
        registered_ = true;
        if (state_->root.onConnect) {
            socket_type socket(this->shared_from_this());
            guarded(nullptr, {}, nullptr, [&] { state_->root.onConnect(socket); });
        }
        read();
    }

    // Beast's own timers: the handshake, the idle pings, and the closing
    // handshake (which Beast bounds by its handshake timeout).
    boost::beast::websocket::stream_base::timeout timeouts(std::chrono::milliseconds handshake) const
    {
        namespace websocket = boost::beast::websocket;
        const Options& options = state_->options;
        auto timeouts = websocket::stream_base::timeout::suggested(boost::beast::role_type::server);
        timeouts.handshake_timeout = handshake;
        // Beast pings after half the idle time without a byte from the peer,
        // and drops the connection after the whole of it.
        if (options.pingInterval.count() > 0) {
            timeouts.idle_timeout = 2 * options.pingInterval;
            timeouts.keep_alive_pings = true;
        } else {
            timeouts.idle_timeout = websocket::stream_base::none();
            timeouts.keep_alive_pings = false;
        }
        return timeouts;
    }

    void read()
    {
        ws_.async_read(buffer_,
            [self = this->shared_from_this()](boost::system::error_code ec, std::size_t) { self->onRead(ec); });
    }

    void onRead(boost::system::error_code ec)
    {
        if (ec)
            return finish(ec);
        if (ws_.got_text())
            handleText();
        else
            reject(error::binary_frame, "finch messages are JSON text frames", {});
        buffer_.consume(buffer_.size());
        // Also while closing: the peer's close frame arrives through this read.
        read();
    }

    void handleText()
    {
        const auto bytes = buffer_.cdata();
        auto target = dispatchText<event_type>(
            {static_cast<const char*>(bytes.data()), bytes.size()}, state_->routes, state_->root);
        if (target.decoded.replyTo)
            return answerRequest(*target.decoded.replyTo, std::move(target.decoded.message));
        const nlohmann::json& id = target.decoded.id;
        if (!target.handler)
            return reject(target.failure, target.detail, target.path, id);
        socket_type socket(this->shared_from_this());
        if (const auto& guard = target.handler->guard) {
            bool allowed = false;
            if (!guarded(target.handler, target.path, &id, [&] { allowed = guard(socket, target.decoded.message); }))
                return;  // it threw: answered with 500 already
            if (!allowed)
                return reject(error::forbidden, "the guard of path \"" + std::string(target.path) + "\" refused it",
                    target.path, id);
        }
        guarded(target.handler, target.path, &id, [&] { target.handler->onMessage(socket, target.decoded.message); });
    }

    // A message the client got wrong: answer with an error envelope, report it
    // to the root's onError, and keep the connection.
    void reject(error code, const std::string& detail, std::string_view path, const nlohmann::json& requestId = nullptr)
    {
        enqueueOwnEnvelope(encodeErrorEnvelope(code, detail, nowMilliseconds(), path, requestId));
        reportError(nullptr, Error{code, detail});
    }

    // Runs user code; false if it threw (or did not run: the manager is
    // gone). An exception becomes an onError report (to `event`'s own onError
    // if it has one, else the root's) and, when a message caused it
    // (`requestId` is not null; it points at the message's id, null if none),
    // a 500 envelope to the client.
    template <class Call>
    bool guarded(const event_type* event, std::string_view path, const nlohmann::json* requestId, Call&& call)
    {
        if (state_->detached)
            return false;
        std::string failure;
        try {
            call();
            return true;
        } catch (const std::exception& e) {
            failure = e.what();
        } catch (...) {
            failure = "unknown exception";
        }
        if (requestId)
            enqueueOwnEnvelope(
                encodeErrorEnvelope(error::handler_exception, failure, nowMilliseconds(), path, *requestId));
        reportError(event, Error{error::handler_exception, std::move(failure)});
        return false;
    }

    void scheduleRoomChanges()
    {
        boost::asio::post(executor_, [self = this->shared_from_this()] {
            // After finish() there is nothing left: it took the changes itself.
            if (self->registered_)
                self->reportRoomChanges(self->membership_.takeChanges());
        });
    }

    void reportRoomChanges(const std::vector<RoomMembership::Change>& changes)
    {
        for (const auto& change : changes) {
            const auto& callback = change.joined ? state_->root.onJoin : state_->root.onLeave;
            if (!callback)
                continue;
            socket_type socket(this->shared_from_this());
            guarded(nullptr, {}, nullptr, [&] { callback(socket, change.room); });
        }
    }

    void armRequestTimer(std::uint64_t id, std::chrono::milliseconds timeout)
    {
        // Made here, on the strand, as every other use of the timer is: the
        // answer, the timeout and finish() all run on the strand.
        auto timer = std::make_shared<boost::asio::steady_timer>(executor_, timeout);
        if (!requests_.setTimer(id, timer))
            return;  // answered already
        timer->async_wait([self = this->shared_from_this(), id](boost::system::error_code ec) {
            if (ec)
                return;  // cancelled: answered, or the connection ended
            if (auto entry = self->requests_.take(id))
                self->completeRequest(std::move(entry->callback), error::reply_timeout, nullptr);
        });
    }

    // A message with "replyTo": the client's answer to a request. An answer
    // to nothing pending (timed out already, or never asked) is dropped.
    void answerRequest(std::uint64_t id, nlohmann::json answer)
    {
        auto entry = requests_.take(id);
        if (!entry)
            return;
        if (entry->timer)
            entry->timer->cancel();
        completeRequest(std::move(entry->callback), {}, std::move(answer));
    }

    void completeRequest(ReplyCallback callback, boost::system::error_code ec, nlohmann::json answer)
    {
        guarded(nullptr, {}, nullptr, [&] { callback(ec, std::move(answer)); });
    }

    void completeLater(ReplyCallback callback, error code)
    {
        boost::asio::post(executor_, [self = this->shared_from_this(), callback = std::move(callback), code]() mutable {
            self->completeRequest(std::move(callback), code, nullptr);
        });
    }

    void reportError(const event_type* event, const Error& failure)
    {
        // Not before onConnect nor after onDisconnect, whatever was posted.
        if (state_->detached || !registered_)
            return;
        const event_type& target = event && event->onError ? *event : state_->root;
        if (!target.onError)
            return;
        socket_type socket(this->shared_from_this());
        try {
            target.onError(socket, failure);
        } catch (...) {
            // onError is the last place to report to; a throw here has nowhere to go.
        }
    }

    // Every post below, never an inline call: the caller may hold the
    // registry's lock or run on another connection's strand.
    bool enqueue(SharedText text)
    {
        const Options& options = state_->options;
        bool startWriting = false;
        bool overflowed = false;
        bool reportDrops = false;
        {
            std::lock_guard lock(mutex_);
            if (phase_ != Phase::open)
                return false;
            // A message alone is always taken: the limit bounds the backlog,
            // not the size of what the application chooses to send.
            if (!queue_.empty() && queue_.bytes() + text->size() > options.maxQueuedBytes) {
                if (options.overflowPolicy == OverflowPolicy::closeConnection) {
                    // The client is not reading: what is queued would never
                    // reach it in time, so the close frame goes next.
                    overflowed = overflowed_ = true;
                    phase_ = Phase::closing;
                    closeReason_ = boost::beast::websocket::close_reason(
                        boost::beast::websocket::close_code::policy_error, "outgoing queue full");
                    queue_.clear();
                } else {
                    const std::size_t dropped = queue_.dropOldest(text->size(), options.maxQueuedBytes);
                    // Reported in batches: one report per burst, not per message.
                    reportDrops = droppedUnreported_ == 0 && dropped > 0;
                    droppedUnreported_ += dropped;
                }
            }
            if (!overflowed)
                queue_.push(std::move(text));
            startWriting = !writing_;
            writing_ = true;
        }
        if (overflowed) {
            boost::asio::post(executor_, [self = this->shared_from_this(), startWriting] {
                self->reportError(nullptr, Error{error::queue_overflow, "outgoing queue full; closing with 1008"});
                self->armCloseDeadline();
                if (startWriting)
                    self->writeNext();
            });
            return false;
        }
        if (reportDrops)
            boost::asio::post(executor_, [self = this->shared_from_this()] { self->reportDrops(); });
        if (startWriting)
            boost::asio::post(executor_, [self = this->shared_from_this()] { self->writeNext(); });
        return true;
    }

    void reportDrops()
    {
        std::size_t dropped = 0;
        {
            std::lock_guard lock(mutex_);
            std::swap(dropped, droppedUnreported_);
        }
        if (dropped > 0)
            reportError(nullptr,
                Error{error::messages_dropped, std::to_string(dropped) + " oldest queued messages dropped"});
    }

    // Bounds the closing handshake in time: a peer that reads nothing, or
    // never answers the close frame, is dropped after Options::closeTimeout.
    void armCloseDeadline()
    {
        if (closeTimer_)
            return;
        {
            std::lock_guard lock(mutex_);
            if (phase_ == Phase::closed)
                return;
        }
        // Beast's closing-handshake timer must not cut in before ours.
        ws_.set_option(timeouts(state_->options.closeTimeout));
        closeTimer_ = std::make_unique<boost::asio::steady_timer>(executor_, state_->options.closeTimeout);
        closeTimer_->async_wait([self = this->shared_from_this()](boost::system::error_code ec) {
            if (!ec)
                self->fail(boost::beast::error::timeout);
        });
    }

    void cancelCloseDeadline()
    {
        if (closeTimer_)
            closeTimer_->cancel();
    }

    void releaseSlot() noexcept
    {
        if (slotHeld_) {
            slotHeld_ = false;
            state_->slots.release();
        }
    }

    // The write loop: one write in flight, then the close frame once a close
    // was asked for and the queue is empty.
    void writeNext()
    {
        SharedText next;
        {
            std::lock_guard lock(mutex_);
            inFlightBytes_ = 0;
            if (phase_ == Phase::closed || failure_) {
                writing_ = false;
                return;
            }
            if (queue_.empty()) {
                if (phase_ != Phase::closing || closeSent_) {
                    writing_ = false;
                    return;
                }
                closeSent_ = true;
            } else {
                next = queue_.pop();
                inFlightBytes_ = next->size();
            }
        }
        if (!next) {
            ws_.async_close(closeReason_, [self = this->shared_from_this()](boost::system::error_code ec) {
                if (ec)
                    self->fail(ec);
            });
            return;
        }
        const auto buffer = boost::asio::buffer(*next);
        ws_.async_write(buffer,
            [self = this->shared_from_this(), next = std::move(next)](boost::system::error_code ec, std::size_t) {
                if (ec)
                    return self->fail(ec);
                self->writeNext();
            });
    }

    // A write failed: the connection is unusable. Closing the socket ends the
    // pending read, whose completion runs finish(), which reports `ec`.
    void fail(boost::system::error_code ec)
    {
        {
            std::lock_guard lock(mutex_);
            if (phase_ == Phase::closed)
                return;
            if (!failure_)
                failure_ = ec;
        }
        // Beast's timer would otherwise keep the io_context busy until it
        // expires, although the socket it guards is gone.
        namespace websocket = boost::beast::websocket;
        ws_.set_option(websocket::stream_base::timeout{websocket::stream_base::none(), websocket::stream_base::none(), false});
        boost::beast::get_lowest_layer(ws_).close();
    }

    void finish(boost::system::error_code ec)
    {
        bool explained = false;
        {
            std::lock_guard lock(mutex_);
            if (phase_ == Phase::closed)
                return;
            phase_ = Phase::closed;
            queue_.clear();
            inFlightBytes_ = 0;
            // The overflow was reported when it happened; how the stuck peer
            // then went away adds nothing.
            explained = overflowed_;
            if (failure_)
                ec = failure_;
            else if (closeSent_ && ec == boost::asio::error::operation_aborted)
                // Beast ends a pending read this way when our own close frame
                // takes over reading the peer's answer: a clean end.
                ec = boost::beast::websocket::error::closed;
        }
        cancelCloseDeadline();
        // Before onDisconnect: an application that reconnects from there must find the slot free.
        releaseSlot();
        if (!registered_)
            return;
        if (ec != boost::beast::websocket::error::closed && !explained)
            reportError(nullptr, Error{ec, ec.message()});
        // Before onDisconnect, while the socket still counts: every request
        // gets its answer, and the rooms hear of the departure.
        for (auto& entry : requests_.close()) {
            if (entry.timer)
                entry.timer->cancel();
            completeRequest(std::move(entry.callback), error::connection_closed, nullptr);
        }
        reportRoomChanges(membership_.close([&](const std::string& room) { state_->rooms.remove(room, *this); }));
        if (state_->root.onDisconnect) {
            socket_type socket(this->shared_from_this());
            guarded(nullptr, {}, nullptr, [&] { state_->root.onDisconnect(socket); });
        }
        // Only now: countClients() still counts this socket inside onDisconnect.
        state_->registry.remove(*this);
        registered_ = false;
        std::vector<std::shared_ptr<void>> watchers;
        {
            std::lock_guard lock(mutex_);
            watchers.swap(endWatchers_);
        }
    }

    boost::beast::websocket::stream<Stream> ws_;
    const typename boost::beast::websocket::stream<Stream>::executor_type executor_;
    const std::shared_ptr<State> state_;
    const Request request_;
    const std::string id_;
    const std::string userId_;
    UserData data_;  // strand only: see Socket::data()
    RoomMembership membership_;
    PendingRequests<ReplyCallback, boost::asio::steady_timer> requests_;
    boost::beast::flat_buffer buffer_;  // strand only

    mutable std::mutex mutex_;
    Phase phase_ = Phase::upgrading;  // guarded by mutex_
    bool writing_ = false;  // guarded by mutex_: a write or close is in flight or posted
    bool closeSent_ = false;  // guarded by mutex_
    boost::system::error_code failure_;  // guarded by mutex_: the write error that ended the connection
    WriteQueue queue_;  // guarded by mutex_
    std::size_t inFlightBytes_ = 0;  // guarded by mutex_: size of the message being written
    std::size_t droppedUnreported_ = 0;  // guarded by mutex_: dropped by OverflowPolicy::dropOldest
    bool overflowed_ = false;  // guarded by mutex_: closing because of OverflowPolicy::closeConnection
    std::vector<std::shared_ptr<void>> endWatchers_;  // guarded by mutex_: see holdUntilEnded()
    boost::beast::websocket::close_reason closeReason_;  // written under mutex_ before the close is posted
    std::unique_ptr<boost::asio::steady_timer> closeTimer_;  // strand only; made when a close begins
    bool registered_ = false;  // strand only
    bool slotHeld_ = true;  // strand only
};

}  // namespace finch::detail

#endif
