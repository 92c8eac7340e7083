#ifndef FINCH_TESTS_SUPPORT_STREAM_HARNESS_HPP
#define FINCH_TESTS_SUPPORT_STREAM_HARNESS_HPP

// Test support: finch's WebSocket stream over the in-memory transport, with a
// session that records what reaches it, a peer the test plays, and time that
// moves only when the test advances it. Deterministic: no sockets, no
// threads, no real time.

#include <finch/detail/websocket/out_frame.hpp>
#include <finch/detail/websocket/stream.hpp>
#include <finch/error.hpp>
#include <finch/message_kind.hpp>
#include <finch/options.hpp>

#include "support/client_frames.hpp"
#include "support/memory_transport.hpp"

#include <boost/asio/io_context.hpp>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace finch::test {

// The session the stream hands its messages to: records them, and echoes
// them unless told otherwise.
template <class Transport>
class RecordingSession : public std::enable_shared_from_this<RecordingSession<Transport>>,
                         public detail::WebSocketStream<Transport, RecordingSession<Transport>> {
    using Stream = detail::WebSocketStream<Transport, RecordingSession<Transport>>;

public:
    RecordingSession(Transport transport, Options options, detail::IncomingBudget* budget)
        : Stream(std::move(transport), options.maxMessageSize, budget)
        , options(std::move(options))
    {
    }

    Options options;
    std::vector<std::string> messages;  // "text:..." or "binary:..."
    std::vector<Error> errors;  // what onStreamError reported
    int ends = 0;
    boost::system::error_code endCause;
    // What to do with a message; echoing it by default.
    std::function<void(RecordingSession&, MessageKind, std::string_view)> onMessage =
        [](RecordingSession& session, MessageKind kind, std::string_view payload) { session.sendBytes(kind, payload); };

    // The response goes first, then whatever `whileOpening` sends, in one write.
    void start(std::string received = {}, std::function<void(RecordingSession&)> whileOpening = {})
    {
        this->openStream("101\r\n\r\n");
        if (whileOpening)
            whileOpening(*this);
        this->runStream(std::move(received));
    }

    bool sendBytes(MessageKind kind, std::string_view payload)
    {
        return this->send(
            detail::dataFrame(kind == MessageKind::text ? detail::Opcode::text : detail::Opcode::binary, payload));
    }
    bool sendText(std::string_view text) { return sendBytes(MessageKind::text, text); }

    using Stream::phase;

    // The stream's hooks.
    const Options& streamOptions() const noexcept { return options; }
    void onStreamMessage(MessageKind kind, std::string_view payload)
    {
        messages.push_back((kind == MessageKind::text ? "text:" : "binary:") + std::string(payload));
        if (onMessage)
            onMessage(*this, kind, payload);
    }
    void onStreamError(const Error& failure) { errors.push_back(failure); }
    void onStreamEnd(boost::system::error_code ec)
    {
        ++ends;
        endCause = ec;
    }
};

// One stream, its peer, and the io_context and clock they run on.
template <class Transport = MemoryTransport>
struct BasicStreamHarness {
    using Session = RecordingSession<Transport>;

    explicit BasicStreamHarness(Options options = {}, detail::IncomingBudget* budget = nullptr)
        : pipe(std::make_shared<MemoryPipe>(io.get_executor(), clock))
        , session(std::make_shared<Session>(Transport(pipe), std::move(options), budget))
    {
    }

    ~BasicStreamHarness()
    {
        // The session's pending waits hold it, and the pipe and the timers
        // hold those: end them, so that nothing is left behind.
        session.reset();
        pipe->serverCancel();
        clock.cancelAll();
        settle();
    }

    // Runs every handler that is ready, until none is.
    void settle()
    {
        for (;;) {
            io.restart();
            if (io.poll() == 0)
                break;
        }
    }

    // Starts the stream and reads the 101 off the wire.
    void start(std::string received = {}, std::function<void(Session&)> whileOpening = {})
    {
        session->start(std::move(received), std::move(whileOpening));
        settle();
        wire += pipe->read();
        settle();
        const std::string response = "101\r\n\r\n";
        if (wire.compare(0, response.size(), response) == 0)
            wire.erase(0, response.size());
    }

    // The peer sends `bytes`; the stream runs until it has nothing left to do.
    void send(const std::string& bytes)
    {
        pipe->write(bytes);
        settle();
    }

    // What the peer has received since the last call, as frames: reads until
    // the stream has nothing more to write.
    std::vector<ServerFrame> receive()
    {
        for (;;) {
            settle();
            const std::string bytes = pipe->read();
            if (bytes.empty())
                break;
            wire += bytes;
        }
        settle();
        return takeServerFrames(wire);
    }

    std::vector<std::string> received()
    {
        std::vector<std::string> out;
        for (const ServerFrame& frame : receive())
            out.push_back(frame.describe());
        return out;
    }

    void advance(std::chrono::milliseconds step)
    {
        clock.advance(step);
        settle();
    }

    boost::asio::io_context io;
    ManualClock clock;
    std::shared_ptr<MemoryPipe> pipe;
    std::shared_ptr<Session> session;
    std::string wire;  // bytes the peer read and has not decoded yet
};

using StreamHarness = BasicStreamHarness<>;

}  // namespace finch::test

#endif
