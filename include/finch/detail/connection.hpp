#ifndef FINCH_DETAIL_CONNECTION_HPP
#define FINCH_DETAIL_CONNECTION_HPP

#include <finch/detail/dispatch.hpp>
#include <finch/detail/manager_state.hpp>
#include <finch/detail/socket_id.hpp>
#include <finch/detail/write_queue.hpp>
#include <finch/envelope.hpp>
#include <finch/error.hpp>
#include <finch/http.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace finch::detail {

template <class Stream>
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
// successful upgrade and the end of `finish()`.
template <class Stream>
class Connection : public std::enable_shared_from_this<Connection<Stream>> {
public:
    using State = ManagerState<Stream>;
    using socket_type = BasicSocket<Stream>;
    using event_type = BasicSocketEvent<socket_type>;

    // `stream`'s executor must be a strand (or an io_context run by one
    // thread): it is where the connection's handlers and callbacks run.
    Connection(std::shared_ptr<State> state, Stream&& stream, Request request, std::string userId)
        : ws_(std::move(stream))
        , executor_(ws_.get_executor())
        , state_(std::move(state))
        , request_(std::move(request))
        , id_(newSocketId())
        , userId_(std::move(userId))
    {
        // A message that leaves in more than one segment would otherwise wait
        // for the peer's delayed ACK (about 40 ms on Linux).
        boost::system::error_code ignored;
        boost::beast::get_lowest_layer(ws_).socket().set_option(boost::asio::ip::tcp::no_delay(true), ignored);
    }

    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    // Answers the upgrade request; on success runs onConnect and starts reading.
    void run()
    {
        boost::asio::post(executor_, [self = this->shared_from_this()] { self->accept(); });
    }

    const std::string& id() const noexcept { return id_; }
    const Request& request() const noexcept { return request_; }
    const std::string& userId() const noexcept { return userId_; }

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
        {
            std::lock_guard lock(mutex_);
            if (phase_ != Phase::open)
                return false;
            phase_ = Phase::closing;
            closeReason_ = boost::beast::websocket::close_reason(code, clampCloseReason(reason));
            if (writing_)
                return true;  // the write loop sends the close frame once the queue is drained
            writing_ = true;
        }
        boost::asio::post(executor_, [self = this->shared_from_this()] { self->writeNext(); });
        return true;
    }

private:
    enum class Phase : unsigned char { upgrading, open, closing, closed };

    void accept()
    {
        namespace websocket = boost::beast::websocket;
        // The websocket stream keeps its own timers; the TCP stream's must be off.
        boost::beast::get_lowest_layer(ws_).expires_never();
        auto timeouts = websocket::stream_base::timeout::suggested(boost::beast::role_type::server);
        timeouts.handshake_timeout = state_->options.handshakeTimeout;
        ws_.set_option(timeouts);
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
            std::lock_guard lock(mutex_);
            phase_ = Phase::closed;
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
            ws_.async_close(boost::beast::websocket::close_code::going_away,
                [self = this->shared_from_this()](boost::system::error_code) {});
            return;
        }
        registered_ = true;
        if (state_->root.onConnect) {
            socket_type socket(this->shared_from_this());
            guarded(nullptr, {}, false, [&] { state_->root.onConnect(socket); });
        }
        read();
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
        const auto target = dispatchText<event_type>(
            {static_cast<const char*>(bytes.data()), bytes.size()}, state_->routes, state_->root);
        if (!target.handler)
            return reject(target.failure, target.detail, target.path);
        socket_type socket(this->shared_from_this());
        guarded(target.handler, target.path, true, [&] { target.handler->onMessage(socket, target.decoded.message); });
    }

    // A message the client got wrong: answer with an error envelope, report it
    // to the root's onError, and keep the connection.
    void reject(error code, const std::string& detail, std::string_view path)
    {
        enqueueOwnEnvelope(encodeErrorEnvelope(code, detail, nowMilliseconds(), path));
        reportError(nullptr, Error{code, detail});
    }

    // Runs user code. An exception becomes an onError report (to `event`'s own
    // onError if it has one, else the root's) and, when a message caused it,
    // a 500 envelope to the client.
    template <class Call>
    void guarded(const event_type* event, std::string_view path, bool answerClient, Call&& call)
    {
        if (state_->detached)
            return;
        std::string failure;
        try {
            call();
            return;
        } catch (const std::exception& e) {
            failure = e.what();
        } catch (...) {
            failure = "unknown exception";
        }
        if (answerClient)
            enqueueOwnEnvelope(encodeErrorEnvelope(error::handler_exception, failure, nowMilliseconds(), path));
        reportError(event, Error{error::handler_exception, std::move(failure)});
    }

    void reportError(const event_type* event, const Error& failure)
    {
        if (state_->detached)
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

    bool enqueue(SharedText text)
    {
        {
            std::lock_guard lock(mutex_);
            if (phase_ != Phase::open)
                return false;
            queue_.push(std::move(text));
            if (writing_)
                return true;
            writing_ = true;
        }
        // Always a post, never an inline write: the caller may hold the
        // registry's lock, and Asio may attempt the write at once.
        boost::asio::post(executor_, [self = this->shared_from_this()] { self->writeNext(); });
        return true;
    }

    // The write loop: one write in flight, then the close frame once a close
    // was asked for and the queue is empty.
    void writeNext()
    {
        SharedText next;
        {
            std::lock_guard lock(mutex_);
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
            if (!failure_)
                failure_ = ec;
        }
        boost::beast::get_lowest_layer(ws_).close();
    }

    void finish(boost::system::error_code ec)
    {
        {
            std::lock_guard lock(mutex_);
            if (phase_ == Phase::closed)
                return;
            phase_ = Phase::closed;
            queue_.clear();
            if (failure_)
                ec = failure_;
            else if (closeSent_ && ec == boost::asio::error::operation_aborted)
                // Beast ends a pending read this way when our own close frame
                // takes over reading the peer's answer: a clean end.
                ec = boost::beast::websocket::error::closed;
        }
        if (!registered_)
            return;
        if (ec != boost::beast::websocket::error::closed)
            reportError(nullptr, Error{ec, ec.message()});
        if (state_->root.onDisconnect) {
            socket_type socket(this->shared_from_this());
            guarded(nullptr, {}, false, [&] { state_->root.onDisconnect(socket); });
        }
        // Only now: countClients() still counts this socket inside onDisconnect.
        state_->registry.remove(*this);
        registered_ = false;
    }

    boost::beast::websocket::stream<Stream> ws_;
    const typename boost::beast::websocket::stream<Stream>::executor_type executor_;
    const std::shared_ptr<State> state_;
    const Request request_;
    const std::string id_;
    const std::string userId_;
    boost::beast::flat_buffer buffer_;  // strand only

    mutable std::mutex mutex_;
    Phase phase_ = Phase::upgrading;  // guarded by mutex_
    bool writing_ = false;  // guarded by mutex_: a write or close is in flight or posted
    bool closeSent_ = false;  // guarded by mutex_
    boost::system::error_code failure_;  // guarded by mutex_: the write error that ended the connection
    WriteQueue queue_;  // guarded by mutex_
    boost::beast::websocket::close_reason closeReason_;  // written under mutex_ before the close is posted
    bool registered_ = false;  // strand only
};

}  // namespace finch::detail

#endif
