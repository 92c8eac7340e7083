#ifndef FINCH_DETAIL_SESSION_SESSION_HPP
#define FINCH_DETAIL_SESSION_SESSION_HPP

#include <finch/detail/manager/completion_guard.hpp>
#include <finch/detail/manager/connection_slots.hpp>
#include <finch/detail/manager/manager_state.hpp>
#include <finch/detail/memory/prefetch.hpp>
#include <finch/detail/session/dispatch.hpp>
#include <finch/detail/session/pending_requests.hpp>
#include <finch/detail/session/reply_handler.hpp>
#include <finch/detail/session/room_membership.hpp>
#include <finch/detail/session/socket_id.hpp>
#include <finch/detail/websocket/close.hpp>
#include <finch/detail/websocket/handshake.hpp>
#include <finch/detail/websocket/out_frame.hpp>
#include <finch/detail/websocket/stream.hpp>
#include <finch/envelope.hpp>
#include <finch/error.hpp>
#include <finch/http.hpp>
#include <finch/message_kind.hpp>

#include <boost/asio/post.hpp>

#include <algorithm>
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

// Declared here as well: manager_state.hpp reaches this header through the
// public headers it includes, before ManagerState is defined.
template <class Transport, class UserData>
struct ManagerState;

// Whether Options::encodings lists MessagePack or CBOR: only then are the
// finch.* subprotocols negotiated and a broadcast framed per encoding.
inline bool speaksBinaryEncoding(const Options& options) noexcept
{
    const auto& listed = options.encodings;
    return std::any_of(listed.begin(), listed.end(), [](Encoding e) { return e != Encoding::json; });
}

// The encoding a connection with `subprotocol` speaks: the one that
// subprotocol names, if the manager lists it (the upgrade handler may have
// picked the name itself), else JSON.
inline Encoding negotiatedEncoding(const Options& options, std::string_view subprotocol)
{
    const auto named = encodingOf(subprotocol);
    if (!named)
        return Encoding::json;
    const auto& listed = options.encodings;
    return std::find(listed.begin(), listed.end(), *named) != listed.end() ? *named : Encoding::json;
}

// One WebSocket connection as the application sees it: the session layer,
// above its WebSocketStream. It decodes messages and dispatches them to
// routes, answers and asks (acknowledgements), keeps the connection's rooms,
// its user and its data, and runs the application's lifecycle callbacks; the
// stream below it does the protocol and the I/O.
//
// Every callback runs on the connection's strand, so one connection's
// callbacks never overlap. Public members are callable from any thread: they
// go through the stream (which locks what senders share) or post to the
// strand.
//
// Lifetime: pending operations hold a shared pointer to the session; so do
// the application's `Socket` handles. The registry holds a plain pointer
// between a successful upgrade and the end of onStreamEnd(); the room index
// between a join and the matching leave, at the latest in onStreamEnd().
//
// A session holds one of the manager's connection slots (from the TCP
// accept, through the HTTP request) and gives it back as soon as it has ended.
template <class Transport, class UserData>
class Session : public std::enable_shared_from_this<Session<Transport, UserData>>,
                public WebSocketStream<Transport, Session<Transport, UserData>> {
    using Stream = WebSocketStream<Transport, Session<Transport, UserData>>;
    friend Stream;

public:
    using State = ManagerState<Transport, UserData>;
    using SocketType = BasicSocket<Transport, UserData>;
    using EventType = BasicSocketEvent<SocketType>;
    using Timer = typename Transport::TimerType;

    // `subprotocol`: the one chosen for the 101 answer, or empty. `deflate`:
    // what was agreed for permessage-deflate (Options::compression).
    Session(std::shared_ptr<State> state, Transport&& transport, Request&& request, std::string&& userId,
        UserData&& data, std::string&& subprotocol, const DeflateAgreement& deflate, ConnectionSlots::Lease slot)
        : Stream(std::move(transport), state->options.maxMessageSize, &state->incomingBudget,
              state->options.compression.get(), deflate, state->options.maxIncomingBytes)
        , state_(std::move(state))
        , request_(std::move(request))
        , id_(std::string(state_->idPrefix()) + newSocketId())
        , userId_(std::move(userId))
        , data_(std::move(data))
        , subprotocol_(std::move(subprotocol))
        , encoding_(negotiatedEncoding(state_->options, subprotocol_))
        , slot_(std::move(slot))
    {
    }

    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    // Only when the session never ran, or never ended: its io_context was
    // stopped or destroyed first, so its handlers were dropped unrun.
    ~Session()
    {
        // onStreamEnd() has normally done this; neither the registry nor the
        // room index may keep a pointer to a destroyed session, however it ended.
        if (registered_)
            state_->registry.remove(*this);
        membership_.close([&](const std::string& room) { state_->rooms.remove(room, *this); });
    }

    // Answers the upgrade request, runs onConnect and starts reading, on the
    // strand. `received`: bytes that came after the request; `extensions`:
    // the 101's Sec-WebSocket-Extensions, if any.
    void run(std::string received, std::string extensions)
    {
        boost::asio::post(this->executor(),
            [self = this->shared_from_this(), received = std::move(received),
                extensions = std::move(extensions)]() mutable { self->start(std::move(received), extensions); });
    }

    // This session, shared; null while its destructor runs (its last owner
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

    // WebSocketStream::prefetch, with the session's member that a send
    // reads (its options, through state_).
    void prefetch(int stage) const noexcept
    {
        if (stage == 0)
            prefetchLines(&state_, sizeof state_);
        Stream::prefetch(stage);
    }

    const std::string& id() const noexcept { return id_; }
    const Request& request() const noexcept { return request_; }
    const std::string& userId() const noexcept { return userId_; }
    UserData& data() noexcept { return data_; }
    const std::string& subprotocol() const noexcept { return subprotocol_; }
    Encoding encoding() const noexcept { return encoding_; }

    bool send(const nlohmann::json& data, std::string_view path, int status)
    {
        if (!this->isOpen())
            return false;  // spare the serialization
        return sendOwnEnvelope(path, status, data);
    }

    // A message without an envelope (Options::rawMessages, or any manager).
    bool sendBytes(std::string_view bytes, MessageKind kind)
    {
        if (!this->isOpen())
            return false;
        return Stream::sendMessage(dataFrame(kind == MessageKind::text ? Opcode::text : Opcode::binary, bytes));
    }

    bool join(std::string room)
    {
        if (!this->isOpen())
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
        if (!this->isOpen())
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
        return sendOwnEnvelope(path, status, data, *id, IdMembers::reply);
    }

    // Sends a request to the client; `callback` runs exactly once (see
    // PendingRequests), on the strand.
    void request(
        std::string_view path, const nlohmann::json& data, std::chrono::milliseconds timeout, ReplyCallback callback)
    {
        const std::uint64_t id = this->isOpen() ? requests_.add(callback) : 0;
        if (id == 0)
            return completeLater(std::move(callback), ErrorCode::connectionClosed);
        if (!sendOwnEnvelope(path, 200, data, nlohmann::json(id), IdMembers::request)) {
            // Closing, or its queue overflowed just now: no answer can come.
            if (auto entry = requests_.take(id))
                completeLater(std::move(entry->callback), ErrorCode::connectionClosed);
            return;
        }
        boost::asio::post(
            this->executor(), [self = this->shared_from_this(), id, timeout] { self->armRequestTimer(id, timeout); });
    }

    // Runs `call(socket)` on the strand, unless the connection ends first.
    template <class Call>
    bool runOnStrand(Call&& call)
    {
        if (this->phase() == Phase::closed)
            return false;
        boost::asio::post(
            this->executor(), [self = this->shared_from_this(), call = std::forward<Call>(call)]() mutable {
                if (!self->registered_)
                    return;  // ended meanwhile: nothing runs after onDisconnect
                SocketType socket(self);
                self->guarded(nullptr, {}, nullptr, [&] { call(socket); });
            });
        return true;
    }

    // Sends an envelope meant for this connection alone, in its encoding,
    // encoded straight behind the room for its frame header (the client id,
    // when asked for, goes in front of it). `id` and `members` as in
    // appendBinaryEnvelope.
    bool sendOwnEnvelope(std::string_view path, int status, const nlohmann::json& data,
        const nlohmann::json& id = nullptr, IdMembers members = IdMembers::none)
    {
        if (encoding_ != Encoding::json)
            return sendBinaryEnvelope(path, status, nowMilliseconds(), data, id, members);
        const std::string idText = members == IdMembers::reply ? replyMembers(id)
            : members == IdMembers::request                    ? requestMembers(id)
                                                               : std::string();
        return sendJsonEnvelope(path, status, data, idText);
    }

    // sendOwnEnvelope for a MessagePack or CBOR connection; also each
    // receiver's own copy of a broadcast when the client id is included.
    bool sendBinaryEnvelope(std::string_view path, int status, std::int64_t timestamp, const nlohmann::json& data,
        const nlohmann::json& id = nullptr, IdMembers members = IdMembers::none)
    {
        std::string bytes = frameBuffer();
        appendBinaryEnvelope(bytes, encoding_, state_->options.envelope, path, status, timestamp, data, id, members,
            state_->options.includeClientId ? std::string_view(id_) : std::string_view());
        return Stream::sendMessage(finishFrame(std::move(bytes), Opcode::binary));
    }

    // sendOwnEnvelope for a JSON connection. `members` as in appendEnvelope.
    bool sendJsonEnvelope(std::string_view path, int status, const nlohmann::json& data, std::string_view members)
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
        return Stream::sendMessage(finishFrame(std::move(text)));
    }

    // Sends a frame that may be shared with other receivers, in this
    // connection's encoding; `shared` holds its compressed forms, made by
    // the first receiver that needs one.
    // A binary connection's broadcast with the client id does not come here:
    // its envelope differs per receiver (sendBinaryEnvelope).
    bool sendEnvelope(const OutFrame& frame, DeflatedFrames& shared)
    {
        // Small, so that a broadcast's loop inlines it: the client id is the
        // exception, out of line.
        if (!state_->options.includeClientId)
            return Stream::sendMessage(frame, &shared);
        return sendWithClientId(frame);
    }

    // A shared JSON frame with this receiver's `"client"` member put in front.
    bool sendWithClientId(const OutFrame& frame)
    {
        const std::string_view envelope = frame.bytes().substr(frame.headerSize());
        std::string text = frameBuffer();
        appendWithClientId(text, envelope, id_);
        return Stream::sendMessage(finishFrame(std::move(text)));
    }

    // Keeps a hold the caller took on `watcher` and gives it back with
    // release() at the end of onStreamEnd(), after onDisconnect (see
    // CompletionGuard); never from the destructor: a connection that never
    // ended never completes it. Call only while the connection is in the
    // registry, which guarantees it has not ended yet.
    void holdUntilEnded(std::shared_ptr<CompletionGuard> watcher)
    {
        if (!watcher)
            return;
        std::lock_guard lock(watchersMutex());
        endWatchers_.push_back(std::move(watcher));
    }

private:
    void start(std::string received, std::string_view extensions)
    {
        this->openStream(switchingProtocolsResponse(request_, subprotocol_, extensions));
        // Open before it is registered: from then on close() (stop(),
        // manager.close()) and broadcasts may reach it from other threads,
        // and an upgrading connection would ignore them.
        if (!state_->detached && state_->registry.add(*this)) {
            registered_ = true;
            if (state_->root.onConnect) {
                SocketType socket(this->shared_from_this());
                guarded(nullptr, {}, nullptr, [&] { state_->root.onConnect(socket); });
            }
        } else {
            // The manager is stopping: the upgrade goes through, so say
            // goodbye properly, without ever telling the application.
            this->close(closeCode::goingAway, {});
        }
        this->runStream(std::move(received));
    }

    // The stream's hooks (strand).
    const Options& streamOptions() const noexcept { return state_->options; }

    void onStreamMessage(MessageKind kind, std::string_view payload)
    {
        if (state_->options.rawMessages) {
            if (state_->root.onRawMessage) {
                SocketType socket(this->shared_from_this());
                guarded(nullptr, {}, nullptr, [&] { state_->root.onRawMessage(socket, payload, kind); });
            }
            return;
        }
        // Text frames are JSON on every connection (be liberal in what is
        // accepted); binary frames only where a binary encoding was chosen.
        if (kind == MessageKind::text)
            handleMessage(Encoding::json, payload);
        else if (encoding_ != Encoding::json)
            handleMessage(encoding_, payload);
        else
            reject(ErrorCode::binaryFrame, "finch messages are JSON text frames", {});
    }

    void onStreamError(const Error& failure) { reportError(nullptr, failure); }

    // The end of the connection, however it came: the transport is closed.
    // Reports an abnormal end, completes the pending requests, leaves the
    // rooms, runs onDisconnect, and only then leaves the registry.
    void onStreamEnd(boost::system::error_code ec)
    {
        // Before onDisconnect: an application that reconnects from there must find the slot free.
        slot_.release();
        if (!registered_)
            return;
        if (ec)
            reportError(nullptr, Error{ec, ec.message()});
        // Before onDisconnect, while the socket still counts: every request
        // gets its answer, and the rooms hear of the departure.
        for (auto& entry : requests_.close()) {
            if (entry.timer)
                entry.timer->cancel();
            completeRequest(std::move(entry.callback), ErrorCode::connectionClosed, nullptr);
        }
        reportRoomChanges(membership_.close([&](const std::string& room) { state_->rooms.remove(room, *this); }));
        if (state_->root.onDisconnect) {
            SocketType socket(this->shared_from_this());
            guarded(nullptr, {}, nullptr, [&] { state_->root.onDisconnect(socket); });
        }
        // Only now: countClients() still counts this socket inside onDisconnect.
        state_->registry.remove(*this);
        registered_ = false;
        std::vector<std::shared_ptr<CompletionGuard>> watchers;
        {
            std::lock_guard lock(watchersMutex());
            watchers.swap(endWatchers_);
        }
        for (const auto& watcher : watchers)
            watcher->release();
    }

    void handleMessage(Encoding encoding, std::string_view payload)
    {
        auto target =
            dispatchMessage<EventType>(state_->options.envelope, encoding, payload, state_->routes, state_->root);
        if (target.decoded.replyTo)
            return answerRequest(*target.decoded.replyTo, std::move(target.decoded.message));
        const nlohmann::json& id = target.decoded.id;
        if (isHeartbeat(target.decoded))
            return void(sendOwnEnvelope(target.path(), 200, nullptr, id, IdMembers::reply));
        if (!target.handler)
            return reject(target.failure, target.detail, target.path(), id);
        SocketType socket(this->shared_from_this());
        if (const auto& guard = target.handler->guard) {
            bool allowed = false;
            if (!guarded(target.handler, target.path(), &id, [&] { allowed = guard(socket, target.decoded.message); }))
                return;  // it threw: answered with 500 already
            if (!allowed)
                return reject(ErrorCode::forbidden, "the guard of path \"" + std::string(target.path()) + "\" refused it",
                    target.path(), id);
        }
        guarded(target.handler, target.path(), &id, [&] { target.handler->onMessage(socket, target.decoded.message); });
    }

    // The application-level heartbeat (Options::heartbeatPath), answered
    // here so that no user code can keep it from proving the connection alive.
    bool isHeartbeat(const DecodedMessage& decoded) const noexcept
    {
        const std::string& path = state_->options.heartbeatPath;
        return !decoded.error && !path.empty() && decoded.route == path;
    }

    // The error envelope that answers a message of this client.
    void sendErrorEnvelope(ErrorCode code, std::string_view detail, std::string_view path, const nlohmann::json& requestId)
    {
        sendOwnEnvelope(
            "error", statusOf(code), errorData(state_->options.envelope, detail, path), requestId, IdMembers::reply);
    }

    // A message the client got wrong: answer with an error envelope, report it
    // to the root's onError, and keep the connection.
    void reject(ErrorCode code, const std::string& detail, std::string_view path, const nlohmann::json& requestId = nullptr)
    {
        sendErrorEnvelope(code, detail, path, requestId);
        reportError(nullptr, Error{code, detail});
    }

    // Runs user code; false if it threw (or did not run: the manager is
    // gone). An exception becomes an onError report (to `event`'s own onError
    // if it has one, else the root's) and, when a message caused it
    // (`requestId` is not null; it points at the message's id, null if none),
    // a 500 envelope to the client.
    template <class Call>
    bool guarded(const EventType* event, std::string_view path, const nlohmann::json* requestId, Call&& call)
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
            sendErrorEnvelope(ErrorCode::handlerException, failure, path, *requestId);
        reportError(event, Error{ErrorCode::handlerException, std::move(failure)});
        return false;
    }

    void scheduleRoomChanges()
    {
        boost::asio::post(this->executor(), [self = this->shared_from_this()] {
            // After onStreamEnd() there is nothing left: it took the changes itself.
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
            SocketType socket(this->shared_from_this());
            guarded(nullptr, {}, nullptr, [&] { callback(socket, change.room); });
        }
    }

    void armRequestTimer(std::uint64_t id, std::chrono::milliseconds timeout)
    {
        // Made here, on the strand, as every other use of the timer is: the
        // answer, the timeout and onStreamEnd() all run on the strand.
        std::shared_ptr<Timer> timer = this->makeTimer();
        timer->expires_at(this->now() + timeout);
        if (!requests_.setTimer(id, timer))
            return;  // answered already
        timer->async_wait([self = this->shared_from_this(), id](boost::system::error_code ec) {
            if (ec)
                return;  // cancelled: answered, or the connection ended
            if (auto entry = self->requests_.take(id))
                self->completeRequest(std::move(entry->callback), ErrorCode::replyTimeout, nullptr);
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

    void completeLater(ReplyCallback callback, ErrorCode code)
    {
        boost::asio::post(
            this->executor(), [self = this->shared_from_this(), callback = std::move(callback), code]() mutable {
                self->completeRequest(std::move(callback), code, nullptr);
            });
    }

    void reportError(const EventType* event, const Error& failure)
    {
        // Not before onConnect nor after onDisconnect, whatever was posted.
        if (state_->detached || !registered_)
            return;
        const EventType& target = event && event->onError ? *event : state_->root;
        if (!target.onError)
            return;
        SocketType socket(this->shared_from_this());
        try {
            target.onError(socket, failure);
        } catch (...) {
            // onError is the last place to report to; a throw here has nowhere to go.
        }
    }

    // The watchers are rare (close() and stop() only), so every session of a
    // manager shares one lock for them rather than each having a mutex.
    std::mutex& watchersMutex() { return state_->watchersMutex; }

    const std::shared_ptr<State> state_;
    const Request request_;
    const std::string id_;
    const std::string userId_;
    UserData data_;  // strand only: see Socket::data()
    const std::string subprotocol_;  // fixed before the 101, so readable from any thread
    const Encoding encoding_;  // follows from the subprotocol: as fixed
    RoomMembership membership_;
    PendingRequests<ReplyCallback, Timer> requests_;
    std::vector<std::shared_ptr<CompletionGuard>> endWatchers_;  // see holdUntilEnded(); under watchersMutex()
    ConnectionSlots::Lease slot_;  // given back when the connection ends
    bool registered_ = false;  // strand only
};

}  // namespace finch::detail

#endif
