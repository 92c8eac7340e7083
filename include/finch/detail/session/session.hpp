#ifndef FINCH_DETAIL_SESSION_SESSION_HPP
#define FINCH_DETAIL_SESSION_SESSION_HPP

#include <finch/detail/session/dispatch.hpp>
#include <finch/detail/websocket/frame.hpp>
#include <finch/detail/websocket/handshake.hpp>
#include <finch/detail/manager/manager_state.hpp>
#include <finch/detail/session/pending_requests.hpp>
#include <finch/detail/session/reply_handler.hpp>
#include <finch/detail/session/room_membership.hpp>
#include <finch/detail/session/socket_id.hpp>
#include <finch/detail/websocket/write_queue.hpp>
#include <finch/envelope.hpp>
#include <finch/error.hpp>
#include <finch/http.hpp>

#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/basic_waitable_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/websocket/error.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include <array>
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

// Where a connection reads into: one buffer per thread, not per connection,
// so an idle connection holds no read buffer at all. Safe because a read is
// parsed (and its messages dispatched) before the thread reads anything else;
// only the bytes of an incomplete frame are copied into the connection.
inline std::array<char, 64 * 1024>& readScratch()
{
    thread_local std::array<char, 64 * 1024> scratch;
    return scratch;
}

// One upgraded WebSocket connection: RFC 6455 spoken directly over the TCP
// socket (detail/frame.hpp), so that frames are built once per broadcast,
// queued frames leave in one system call, and an idle connection costs little.
//
// Everything that reads from the socket or waits on it runs on the
// connection's strand (the socket's executor), and so does every user
// callback: one connection's callbacks never overlap. Public members are
// callable from any thread: they take `mutex_` to update the phase and the
// write queue, never across user code, and hand the rest to the strand with
// a post. One write happens off the strand, under `mutex_`: whoever queues a
// frame while the write loop is idle sends it at once (enqueue()).
//
// The socket is non-blocking and driven by readiness: read() and flush() try
// the system call at once and wait for readiness only when it would block.
//
// Lifetime: pending operations hold a shared pointer to the connection; so do
// user's `Socket` handles. The registry holds a plain pointer between a
// successful upgrade and the end of `finish()`; the manager's room index
// between a join and the matching leave, at the latest in `finish()`.
//
// Whoever creates a connection has taken one of the manager's connection
// slots for it; the connection gives it back as soon as it has ended.
template <class Stream, class UserData>
class Session : public std::enable_shared_from_this<Session<Stream, UserData>> {
public:
    using State = ManagerState<Stream, UserData>;
    using socket_type = BasicSocket<Stream, UserData>;
    using event_type = BasicSocketEvent<socket_type>;
    using tcp = boost::asio::ip::tcp;
    // The socket's executor is the strand itself, not an any_io_executor
    // holding one: Asio copies and re-wraps the I/O executor for every
    // operation, and a strand does not fit any_io_executor's inline storage,
    // so each wrap was a heap allocation (three per echoed message).
    using executor_type = boost::asio::strand<boost::asio::any_io_executor>;
    using StreamSocket = boost::asio::basic_stream_socket<tcp, executor_type>;
    // For the same reason: a steady_timer would wrap the strand on the heap
    // once per connection, and again for every wait.
    using Timer = boost::asio::basic_waitable_timer<std::chrono::steady_clock,
        boost::asio::wait_traits<std::chrono::steady_clock>, executor_type>;

    // `socket`'s executor must be a strand (or an io_context run by one
    // thread): it is where the connection's handlers and callbacks run.
    // `received` holds bytes the HTTP parser read past the upgrade request.
    Session(std::shared_ptr<State> state, tcp::socket&& socket, Request request, std::string userId, UserData data,
        std::string received = {})
        : socket_(onStrand(std::move(socket)))
        , state_(std::move(state))
        , request_(std::move(request))
        , id_(newSocketId())
        , userId_(std::move(userId))
        , data_(std::move(data))
        , reader_(state_->options.maxMessageSize)
        , inbox_(std::move(received))
    {
        // A message that leaves in more than one segment would otherwise wait
        // for the peer's delayed ACK (about 40 ms on Linux).
        boost::system::error_code ignored;
        socket_.set_option(tcp::no_delay(true), ignored);
        socket_.non_blocking(true, ignored);
    }

    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    // Only when the connection never ran, or never ended: its io_context was
    // stopped or destroyed first, so its handlers were dropped unrun.
    ~Session()
    {
        releaseSlot();
        // finish() has normally done this; neither the registry nor the room
        // index may keep a pointer to a destroyed connection, however it ended.
        if (registered_)
            state_->registry.remove(*this);
        membership_.close([&](const std::string& room) { state_->rooms.remove(room, *this); });
    }

    // Answers the upgrade request; then runs onConnect and starts reading.
    void run()
    {
        boost::asio::post(socket_.get_executor(), [self = this->shared_from_this()] { self->start(); });
    }

    // The same TCP connection, as a socket whose executor type is the
    // connection's strand: the one the accepted socket runs on, or a new
    // strand of its executor.
    static StreamSocket onStrand(tcp::socket&& socket)
    {
        const auto& executor = socket.get_executor();
        const executor_type* strand = executor.template target<executor_type>();
        StreamSocket adopted(strand ? *strand : boost::asio::make_strand(executor));
        boost::system::error_code ec;
        if (!socket.is_open())
            return adopted;
        const auto protocol = socket.local_endpoint(ec).protocol();
        if (ec)
            return adopted;  // not connected any more: the first read ends the connection
        const auto handle = socket.release(ec);
        if (!ec)
            adopted.assign(protocol, handle, ec);
        return adopted;
    }

    // This connection, shared; null while its destructor runs (its last owner
    // let go before it could leave the registry or a room: see ~Session),
    // which a visitor of the registry or of a room may meet. Not
    // weak_from_this().lock(): that copies the weak pointer, two more atomic
    // operations for every receiver of a broadcast.
    std::shared_ptr<Session> share() noexcept
    {
        try {
            return this->shared_from_this();
        } catch (const std::bad_weak_ptr&) {
            return nullptr;
        }
    }

    const std::string& id() const noexcept { return id_; }
    const Request& request() const noexcept { return request_; }
    const std::string& userId() const noexcept { return userId_; }
    UserData& data() noexcept { return data_; }
    executor_type executor() { return socket_.get_executor(); }

    bool isOpen() const
    {
        std::lock_guard lock(mutex_);
        return phase_ == Phase::open;
    }

    bool send(const nlohmann::json& data, std::string_view path, int status)
    {
        if (!isOpen())
            return false;  // spare the serialization
        return enqueueOwnEnvelope(path, status, data);
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
            const auto foundPath = message.find(state_->options.envelope.pathMember());
            if (foundPath != message.end() && foundPath->is_string())
                path = foundPath->template get_ref<const std::string&>();
            const auto foundId = message.find("id");
            if (foundId != message.end() && (foundId->is_string() || foundId->is_number()))
                id = &*foundId;
        }
        return enqueueOwnEnvelope(path, status, data, replyMembers(*id));
    }

    // Sends a request to the client; `callback` runs exactly once (see
    // PendingRequests), on the strand.
    void request(
        std::string_view path, const nlohmann::json& data, std::chrono::milliseconds timeout, ReplyCallback callback)
    {
        const std::uint64_t id = isOpen() ? requests_.add(callback) : 0;
        if (id == 0)
            return completeLater(std::move(callback), error::connection_closed);
        if (!enqueueOwnEnvelope(path, 200, data, requestMembers(id))) {
            // Closing, or its queue overflowed just now: no answer can come.
            if (auto entry = requests_.take(id))
                completeLater(std::move(entry->callback), error::connection_closed);
            return;
        }
        boost::asio::post(
            socket_.get_executor(), [self = this->shared_from_this(), id, timeout] { self->armRequestTimer(id, timeout); });
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
        boost::asio::post(socket_.get_executor(), [self = this->shared_from_this(), call = std::forward<Call>(call)]() mutable {
            if (!self->registered_)
                return;  // ended meanwhile: nothing runs after onDisconnect
            socket_type socket(self);
            self->guarded(nullptr, {}, nullptr, [&] { call(socket); });
        });
        return true;
    }

    // Queues an envelope meant for this connection alone, encoded straight
    // behind the room for its frame header (the client id, when asked for,
    // goes in front of it). `members` as in appendEnvelope.
    bool enqueueOwnEnvelope(std::string_view path, int status, const nlohmann::json& data, std::string_view members = {})
    {
        const EnvelopeFormat& format = state_->options.envelope;
        std::string text = frameBuffer();
        if (state_->options.includeClientId) {
            std::string envelope;
            appendEnvelope(envelope, format, path, status, nowMilliseconds(), data, members);
            appendWithClientId(text, envelope, id_);
        } else {
            appendEnvelope(text, format, path, status, nowMilliseconds(), data, members);
        }
        return enqueue(finishTextFrame(std::move(text)));
    }

    // The error envelope that answers a message of this client.
    void enqueueErrorEnvelope(error code, std::string_view detail, std::string_view path, const nlohmann::json& requestId)
    {
        enqueueOwnEnvelope("error", statusOf(code), errorData(state_->options.envelope, detail, path),
            replyMembers(requestId));
    }

    // Queues a frame that may be shared with other receivers.
    bool enqueueEnvelope(const OutFrame& frame)
    {
        if (state_->options.includeClientId) {
            const std::string_view envelope = frame.bytes().substr(frameHeaderSize(frame));
            std::string text = frameBuffer();
            appendWithClientId(text, envelope, id_);
            return enqueue(finishTextFrame(std::move(text)));
        }
        return enqueue(frame);
    }

    bool close(boost::beast::websocket::close_code code, std::string_view reason)
    {
        bool startWriting = false;
        {
            std::lock_guard lock(mutex_);
            if (phase_ != Phase::open)
                return false;
            phase_ = Phase::closing;
            closeFrame_ = controlFrame(
                Opcode::close, closePayload(static_cast<std::uint16_t>(code), clampCloseReason(reason)));
            // Else the write loop sends the close frame once the queue is drained.
            startWriting = !writing_ && !corked_;
            writing_ = writing_ || startWriting;
        }
        boost::asio::post(socket_.get_executor(), [self = this->shared_from_this(), startWriting] {
            self->armCloseDeadline();
            if (startWriting)
                self->flush();
        });
        return true;
    }

    // Bytes queued for this connection and not yet taken by the kernel,
    // the frames being written included.
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
    using Clock = std::chrono::steady_clock;

    // The first `count` buffers of an array, as a buffer sequence, so that a
    // gathered write needs no allocation.
    struct BufferRange {
        const boost::asio::const_buffer* first;
        const boost::asio::const_buffer* last;
        const boost::asio::const_buffer* begin() const noexcept { return first; }
        const boost::asio::const_buffer* end() const noexcept { return last; }
    };

    static std::size_t frameHeaderSize(const OutFrame& frame) noexcept
    {
        const auto length = static_cast<unsigned char>(frame.bytes()[1]) & 0x7F;
        return length < 126 ? 2 : length == 126 ? 4 : 10;
    }

    void start()
    {
        lastHeard_ = Clock::now();
        {
            std::lock_guard lock(mutex_);
            // The 101 answer is the first thing on the wire; whatever onConnect
            // sends is queued behind it and leaves in the same system call.
            handshake_ = {std::make_shared<const std::string>(switchingProtocolsResponse(request_)), 0};
            // Open before it is registered: from then on close() (stop(),
            // manager.close()) and broadcasts may reach it from other threads,
            // and an upgrading connection would ignore them.
            phase_ = Phase::open;
            writing_ = true;
            corked_ = true;
        }
        if (!state_->detached && state_->registry.add(*this)) {
            registered_ = true;
            armKeepalive();
            if (state_->root.onConnect) {
                socket_type socket(this->shared_from_this());
                guarded(nullptr, {}, nullptr, [&] { state_->root.onConnect(socket); });
            }
        } else {
            // The manager is stopping: the upgrade goes through, so say
            // goodbye properly, without ever telling the application.
            {
                std::lock_guard lock(mutex_);
                phase_ = Phase::closing;
                closeFrame_ = controlFrame(Opcode::close, closePayload(closeCode::goingAway, {}));
            }
            armCloseDeadline();
        }
        uncork(true);
        // Bytes that came with the upgrade request are parsed first.
        if (!inbox_.empty()) {
            std::string received;
            received.swap(inbox_);
            if (!consume(received.data(), received.size()))
                return;
        }
        read();
    }

    // Reads what the socket has, a bounded number of times so that one busy
    // connection cannot starve the others on its thread, then waits for more.
    // A read that did not fill the buffer has most likely emptied the socket,
    // so the wait starts without a second read to prove it (see awaitBytes).
    void read()
    {
        auto& scratch = readScratch();
        for (int round = 0; round < 16; ++round) {
            if (ended())
                return;
            boost::system::error_code ec;
            const std::size_t size = socket_.read_some(boost::asio::buffer(scratch), ec);
            if (ec == boost::asio::error::would_block)
                return awaitBytes();
            if (ec)
                return finish(draining_ && ec == boost::asio::error::eof ? protocolFailure_ : ec);
            if (draining_) {
                if (size < scratch.size())
                    return waitReadable();
                continue;
            }
            if (!took(scratch.data(), size))
                return;
            if (size < scratch.size())
                return awaitBytes();
        }
        // More may be waiting: come back after the others had a turn.
        boost::asio::post(socket_.get_executor(), [self = this->shared_from_this()] { self->read(); });
    }

    // Parses `size` bytes that just arrived at `data`. False once reading must stop.
    bool took(char* data, std::size_t size)
    {
        lastHeard_ = Clock::now();
        pingSent_ = false;
        if (inbox_.empty())
            return consume(data, size);
        inbox_.append(data, size);
        std::string pending;
        pending.swap(inbox_);
        return consume(pending.data(), pending.size());
    }

    // Waits for the peer's next bytes, in one of two ways.
    //
    // A connection that is exchanging messages reads with async_receive into
    // a block of its own: Asio's reactor reads as soon as epoll reports the
    // bytes, and starting a read that cannot be satisfied yet costs no system
    // call. Waiting for readiness instead (below) costs an epoll_ctl per wait,
    // a third of the system calls of an echoed message.
    //
    // An idle connection has no block, so it costs no read memory: the block
    // is taken when messages arrive and given back at the first keepalive tick
    // that finds no message since the previous one (onKeepalive). Without
    // keepalive (pingInterval 0) there is no tick, so no block either.
    void awaitBytes()
    {
        if (draining_)
            return waitReadable();
        if (!receiveBlock_) {
            if (!messageSinceTick_ || !keepaliveTimer_)
                return waitReadable();
            receiveBlock_ = std::make_unique<ReceiveBlock>();
        }
        socket_.async_receive(boost::asio::buffer(*receiveBlock_),
            [self = this->shared_from_this()](boost::system::error_code ec, std::size_t size) {
                self->onReceived(ec, size);
            });
    }

    void onReceived(boost::system::error_code ec, std::size_t size)
    {
        if (ended())
            return;
        if (ec == boost::asio::error::operation_aborted && releasingBlock_) {
            releasingBlock_ = false;
            receiveBlock_.reset();
            return waitReadable();
        }
        releasingBlock_ = false;
        if (ec)
            return finish(ec);
        if (!took(receiveBlock_->data(), size))
            return;
        if (size == receiveBlock_->size())
            return read();  // there may be more
        awaitBytes();
    }

    // An idle connection's read block goes back to the allocator. The pending
    // receive ends with operation_aborted and the connection waits for
    // readiness instead. Not while a write waits for room, nor while draining
    // (the read waits for readiness then): cancel() would end those waits too.
    void releaseReceiveBlock()
    {
        if (!receiveBlock_ || releasingBlock_ || waitingWritable_ || draining_)
            return;
        releasingBlock_ = true;
        boost::system::error_code ignored;
        socket_.cancel(ignored);
    }

    // After failing the connection: the rest of the peer's bytes cannot be
    // parsed, so they are read and dropped until it closes too (within the
    // close deadline). Our FIN tells a client that has read our close frame
    // that the closing handshake is over; closing at once instead would
    // reset the connection under its answer.
    void drain()
    {
        boost::system::error_code ignored;
        socket_.shutdown(tcp::socket::shutdown_send, ignored);
        draining_ = true;
        read();
    }

    void waitReadable()
    {
        socket_.async_wait(tcp::socket::wait_read, [self = this->shared_from_this()](boost::system::error_code ec) {
            if (self->ended())
                return;
            if (ec)
                return self->finish(ec);
            self->read();
        });
    }

    // Parses and dispatches the complete frames in [data, data + size) and
    // keeps the rest for the next read. Writes queued meanwhile (replies,
    // pongs) leave together afterwards. False once reading must stop.
    bool consume(char* data, std::size_t size)
    {
        {
            std::lock_guard lock(mutex_);
            corked_ = true;
        }
        FrameReader::Failure failure;
        const std::size_t used = reader_.parse(data, size, *this, failure);
        if (failure.closeCode == 0 && !closeReceived_ && used < size)
            inbox_.assign(data + used, size - used);
        if (failure.closeCode != 0)
            failConnection(failure);
        uncork(false);
        return failure.closeCode == 0 && !closeReceived_ && !ended();
    }

    // Ends a cork: starts the write loop if something was queued meanwhile.
    void uncork(bool writingClaimed)
    {
        bool startWriting = false;
        {
            std::lock_guard lock(mutex_);
            corked_ = false;
            if (writingClaimed) {
                startWriting = true;
            } else if (!writing_ && (!queue_.empty() || (closeFrame_.buffer && !closeSent_))) {
                writing_ = true;
                startWriting = true;
            }
        }
        if (startWriting)
            flush();
    }

public:
    // FrameReader's sink (strand only).
    bool onMessage(bool text, std::string_view payload)
    {
        messageSinceTick_ = true;
        if (!isOpen())
            return true;  // closing: the peer's close frame is all that matters now
        if (text)
            handleText(payload);
        else
            reject(error::binary_frame, "finch messages are JSON text frames", {});
        return true;
    }

    // A pong still queued answers this ping instead (RFC 6455 5.5.3 allows
    // answering only the latest one): a client that pings without reading
    // cannot grow the queue.
    bool onPing(std::string_view payload)
    {
        std::lock_guard lock(mutex_);
        if (phase_ == Phase::open || (phase_ == Phase::closing && !closeSent_))
            queue_.pushControl(controlFrame(Opcode::pong, payload));
        return true;
    }

    bool onPong() { return true; }

    bool onClose(std::uint16_t code, std::string_view)
    {
        closeReceived_ = true;
        bool answered = false;
        {
            std::lock_guard lock(mutex_);
            // Ours must have left whole: closing the socket under a close
            // frame still being written would cut it.
            answered = closeSent_ && !closeInFlight_;
            if (!closeSent_) {
                // Answer at once with the same code; what is still queued
                // would reach a peer that has stopped reading.
                phase_ = Phase::closing;
                queue_.clear();
                closeFrame_ = controlFrame(
                    Opcode::close, code == 1005 ? std::string() : closePayload(code, {}));
            }
        }
        if (answered)
            finish(boost::beast::websocket::error::closed);
        else
            armCloseDeadline();
        return false;
    }

private:
    void handleText(std::string_view text)
    {
        auto target = dispatchText<event_type>(state_->options.envelope, text, state_->routes, state_->root);
        if (target.decoded.replyTo)
            return answerRequest(*target.decoded.replyTo, std::move(target.decoded.message));
        const nlohmann::json& id = target.decoded.id;
        if (!target.handler)
            return reject(target.failure, target.detail, target.path(), id);
        socket_type socket(this->shared_from_this());
        if (const auto& guard = target.handler->guard) {
            bool allowed = false;
            if (!guarded(target.handler, target.path(), &id, [&] { allowed = guard(socket, target.decoded.message); }))
                return;  // it threw: answered with 500 already
            if (!allowed)
                return reject(error::forbidden, "the guard of path \"" + std::string(target.path()) + "\" refused it",
                    target.path(), id);
        }
        guarded(target.handler, target.path(), &id, [&] { target.handler->onMessage(socket, target.decoded.message); });
    }

    // The client broke the protocol: close with the code the frame reader
    // chose, report it, and stop reading.
    void failConnection(const FrameReader::Failure& failure)
    {
        namespace websocket = boost::beast::websocket;
        protocolFailure_ = failure.closeCode == closeCode::tooBig ? websocket::error::message_too_big
            : failure.closeCode == closeCode::invalidPayload      ? websocket::error::bad_frame_payload
                                                                  : websocket::error::bad_opcode;
        {
            std::lock_guard lock(mutex_);
            if (!closeSent_) {
                phase_ = Phase::closing;
                queue_.clear();
                closeFrame_ = controlFrame(Opcode::close, closePayload(failure.closeCode, failure.reason));
            }
        }
        armCloseDeadline();
    }

    // A message the client got wrong: answer with an error envelope, report it
    // to the root's onError, and keep the connection.
    void reject(error code, const std::string& detail, std::string_view path, const nlohmann::json& requestId = nullptr)
    {
        enqueueErrorEnvelope(code, detail, path, requestId);
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
            enqueueErrorEnvelope(error::handler_exception, failure, path, *requestId);
        reportError(event, Error{error::handler_exception, std::move(failure)});
        return false;
    }

    void scheduleRoomChanges()
    {
        boost::asio::post(socket_.get_executor(), [self = this->shared_from_this()] {
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
        auto timer = std::make_shared<Timer>(socket_.get_executor(), timeout);
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
        boost::asio::post(socket_.get_executor(),
            [self = this->shared_from_this(), callback = std::move(callback), code]() mutable {
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

    // When the write loop is idle and the strand is not about to flush by
    // itself, the frame is sent at once, on the caller's thread: one send
    // system call, with no post and no hand-over to the thread that runs the
    // strand (a broadcast's caller writes to every idle receiver this way).
    // What the kernel does not take at once is left to the write loop;
    // errors are met again there, never reported here.
    //
    // Callers hold no lock of the manager: this is the one place that writes
    // to the socket off the strand, and it does so under mutex_, which finish()
    // holds while it closes the socket, so a write never reaches a closed
    // descriptor, nor one the system has already given to a new connection.
    // The socket is non-blocking: write_some is a single send() that reads
    // the socket's descriptor and flags and changes nothing of Asio's state,
    // so the strand's pending receive may run alongside.
    bool enqueue(const OutFrame& frame)
    {
        bool startWriting = false;
        bool overflowed = false;
        bool reportDrops = false;
        {
            std::lock_guard lock(mutex_);
            if (phase_ != Phase::open)
                return false;
            // While the strand is corked it flushes by itself afterwards.
            startWriting = !writing_ && !corked_;
            if (startWriting && queue_.empty() && inFlight_.empty()) {
                if (sendNow(frame))
                    return true;
            } else {
                overflowed = makeRoomFor(frame.size(), reportDrops);
                if (!overflowed)
                    queue_.push(frame);
            }
            writing_ = writing_ || startWriting;
        }
        if (overflowed) {
            boost::asio::post(socket_.get_executor(), [self = this->shared_from_this(), startWriting] {
                self->reportError(nullptr, Error{error::queue_overflow, "outgoing queue full; closing with 1008"});
                self->armCloseDeadline();
                if (startWriting)
                    self->flush();
            });
            return false;
        }
        if (reportDrops)
            boost::asio::post(socket_.get_executor(), [self = this->shared_from_this()] { self->reportDrops(); });
        if (startWriting)
            boost::asio::post(socket_.get_executor(), [self = this->shared_from_this()] { self->flush(); });
        return true;
    }

    // Under mutex_, with the write loop idle and nothing queued: hands
    // `frame` to the kernel now. What it does not take is left for the write
    // loop; returns whether it took everything.
    bool sendNow(const OutFrame& frame)
    {
        const std::string_view bytes = frame.bytes();
        boost::system::error_code ec;
        const std::size_t written = socket_.write_some(boost::asio::buffer(bytes.data(), bytes.size()), ec);
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
    // bytes are queued. Returns whether the connection overflowed and is now
    // closing (OverflowPolicy::closeConnection); sets `reportDrops` when
    // OverflowPolicy::dropOldest began a burst of drops.
    bool makeRoomFor(std::size_t incoming, bool& reportDrops)
    {
        const Options& options = state_->options;
        // A message alone is always taken: the limit bounds the backlog, not
        // the size of what the application chooses to send.
        const std::size_t pending = queue_.bytes() + inFlightBytes_;
        if (pending == 0 || pending + incoming <= options.maxQueuedBytes)
            return false;
        if (options.overflowPolicy == OverflowPolicy::closeConnection) {
            // The client is not reading: what is queued would never reach it
            // in time, so the close frame goes next.
            overflowed_ = true;
            phase_ = Phase::closing;
            closeFrame_ = controlFrame(Opcode::close, closePayload(closeCode::policyViolation, "outgoing queue full"));
            queue_.clear();
            return true;
        }
        const std::size_t dropped = queue_.dropOldest(incoming + inFlightBytes_, options.maxQueuedBytes);
        // Reported in batches: one report per burst, not per message.
        reportDrops = droppedUnreported_ == 0 && dropped > 0;
        droppedUnreported_ += dropped;
        return false;
    }

    void reportDrops()
    {
        std::size_t dropped = 0;
        {
            std::lock_guard lock(mutex_);
            std::swap(dropped, droppedUnreported_);
        }
        if (dropped > 0)
            reportError(
                nullptr, Error{error::messages_dropped, std::to_string(dropped) + " oldest queued messages dropped"});
    }

    // The write loop (strand only; `writing_` is claimed by whoever started
    // it). Takes every queued frame, up to a bound, and hands them to the
    // kernel in one gathered write; what the kernel did not take is finished
    // when the socket is writable again. The close frame goes after the last
    // queued message.
    void flush()
    {
        constexpr std::size_t gatherLimit = 64;
        for (int round = 0;; ++round) {
            if (round == 16) {
                // Senders keep the queue full: let the others on this thread have a turn.
                boost::asio::post(socket_.get_executor(), [self = this->shared_from_this()] { self->flush(); });
                return;
            }
            if (inFlight_.empty()) {
                std::lock_guard lock(mutex_);
                if (phase_ == Phase::closed) {
                    writing_ = false;
                    return;
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
                    return;
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
            boost::system::error_code ec;
            std::size_t written = socket_.write_some(BufferRange{buffers.data(), buffers.data() + count}, ec);
            if (ec == boost::asio::error::would_block)
                written = 0;
            else if (ec)
                return finish(ec);
            settleWritten(written);
            if (!inFlight_.empty())
                return waitWritable();
            if (closeInFlight_) {
                closeInFlight_ = false;
                // Ours answered theirs: the TCP connection can go.
                if (closeReceived_)
                    return finish(boost::beast::websocket::error::closed);
                if (protocolFailure_)
                    return drain();
                // Else wait for the peer's answer; the read loop goes on.
            }
        }
    }

    // Drops the fully written frames from inFlight_ and notes how far into
    // the next one the kernel got.
    void settleWritten(std::size_t written)
    {
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
        std::lock_guard lock(mutex_);
        std::size_t left = 0;
        for (std::size_t i = 0; i < inFlight_.size(); ++i)
            left += inFlight_[i].size() - (i == 0 ? inFlightOffset_ : 0);
        inFlightBytes_ = left;
    }

    void waitWritable()
    {
        waitingWritable_ = true;
        socket_.async_wait(tcp::socket::wait_write, [self = this->shared_from_this()](boost::system::error_code ec) {
            self->waitingWritable_ = false;
            if (self->ended())
                return;
            if (ec)
                return self->finish(ec);
            self->flush();
        });
    }

    // Keepalive: one timer per connection, re-armed once per interval rather
    // than at every read; reads only note the time.
    void armKeepalive()
    {
        const auto interval = state_->options.pingInterval;
        if (interval.count() <= 0)
            return;
        if (!keepaliveTimer_)
            keepaliveTimer_ = std::make_unique<Timer>(socket_.get_executor());
        keepaliveTimer_->expires_at((pingSent_ ? Clock::now() : lastHeard_) + interval);
        keepaliveTimer_->async_wait([self = this->shared_from_this()](boost::system::error_code ec) {
            if (!ec && !self->ended())
                self->onKeepalive();
        });
    }

    void onKeepalive()
    {
        const auto interval = state_->options.pingInterval;
        if (!messageSinceTick_)
            releaseReceiveBlock();
        messageSinceTick_ = false;
        if (Clock::now() - lastHeard_ < interval)
            return armKeepalive();
        if (pingSent_)
            return finish(boost::beast::error::timeout);  // silent for a whole interval after the ping
        bool startWriting = false;
        {
            std::lock_guard lock(mutex_);
            if (phase_ == Phase::open) {
                queue_.pushControl(controlFrame(Opcode::ping, {}));
                startWriting = !writing_;
                writing_ = true;
            }
        }
        pingSent_ = true;
        armKeepalive();
        if (startWriting)
            flush();
    }

    // Bounds the closing handshake in time: a peer that reads nothing, or
    // never answers the close frame, is dropped after Options::closeTimeout.
    void armCloseDeadline()
    {
        if (closeTimer_ || ended())
            return;
        closeTimer_ = std::make_unique<Timer>(socket_.get_executor(), state_->options.closeTimeout);
        closeTimer_->async_wait([self = this->shared_from_this()](boost::system::error_code ec) {
            if (!ec && !self->ended())
                self->finish(boost::beast::error::timeout);
        });
    }

    void releaseSlot() noexcept
    {
        if (slotHeld_) {
            slotHeld_ = false;
            state_->slots.release();
        }
    }

    bool ended() const
    {
        std::lock_guard lock(mutex_);
        return phase_ == Phase::closed;
    }

    // The end of the connection, however it came (strand only): closes the
    // socket, which cancels the pending waits, then tells the application.
    void finish(boost::system::error_code ec)
    {
        bool explained = false;
        {
            // The socket closes in the same step as the phase changes: an
            // enqueue() on another thread either writes before it, or sees
            // the connection closed and reports the frame as not sent.
            std::lock_guard lock(mutex_);
            if (phase_ == Phase::closed)
                return;
            boost::system::error_code ignored;
            socket_.shutdown(tcp::socket::shutdown_both, ignored);
            socket_.close(ignored);
            phase_ = Phase::closed;
            queue_.clear();
            handshake_ = {};
            inFlightBytes_ = 0;
            // The overflow was reported when it happened; how the stuck peer
            // then went away adds nothing.
            explained = overflowed_;
            if (closeSent_ && !closeReceived_ && ec == boost::asio::error::eof)
                // Our close frame, answered by the peer's FIN instead of its
                // own close frame: over, but nothing to report.
                ec = boost::beast::websocket::error::closed;
            // Under the lock: enqueue() may fill it off the strand.
            inFlight_.clear();
        }
        inbox_.clear();
        inbox_.shrink_to_fit();
        if (closeTimer_)
            closeTimer_->cancel();
        if (keepaliveTimer_)
            keepaliveTimer_->cancel();
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

    StreamSocket socket_;
    const std::shared_ptr<State> state_;
    const Request request_;
    const std::string id_;
    const std::string userId_;
    UserData data_;  // strand only: see Socket::data()
    RoomMembership membership_;
    PendingRequests<ReplyCallback, Timer> requests_;

    // Strand only. inFlight_ and inFlightOffset_ also change under mutex_:
    // enqueue() fills them while the write loop is idle (writing_ false, so
    // the strand does not touch them) and finish() clears them.
    FrameReader reader_;
    std::string inbox_;  // the start of a frame that has not fully arrived
    std::vector<OutFrame> inFlight_;  // handed to the kernel, maybe in part
    std::size_t inFlightOffset_ = 0;  // bytes of inFlight_.front() already written
    Clock::time_point lastHeard_{};
    std::unique_ptr<Timer> keepaliveTimer_;
    std::unique_ptr<Timer> closeTimer_;  // made when a close begins
    boost::system::error_code protocolFailure_;
    // Read into while messages are coming in; see awaitBytes().
    using ReceiveBlock = std::array<char, 4096>;
    std::unique_ptr<ReceiveBlock> receiveBlock_;
    bool messageSinceTick_ = false;  // a message arrived since the last keepalive tick
    bool releasingBlock_ = false;  // the receive into receiveBlock_ is being cancelled
    bool waitingWritable_ = false;
    bool pingSent_ = false;
    bool draining_ = false;
    bool closeReceived_ = false;
    bool closeInFlight_ = false;
    bool registered_ = false;
    bool slotHeld_ = true;

    mutable std::mutex mutex_;
    // Guarded by mutex_.
    Phase phase_ = Phase::upgrading;
    bool writing_ = false;  // the write loop runs or is posted
    bool corked_ = false;  // the strand is dispatching and flushes afterwards
    bool closeSent_ = false;  // the close frame has left the queue
    WriteQueue queue_;
    OutFrame handshake_;  // the 101 answer until the write loop takes it: never dropped nor counted
    OutFrame closeFrame_;  // sent once the queue is empty
    std::size_t inFlightBytes_ = 0;  // bytes of inFlight_ not yet written
    std::size_t droppedUnreported_ = 0;  // dropped by OverflowPolicy::dropOldest
    bool overflowed_ = false;  // closing because of OverflowPolicy::closeConnection
    std::vector<std::shared_ptr<void>> endWatchers_;  // see holdUntilEnded()
};

}  // namespace finch::detail

#endif
