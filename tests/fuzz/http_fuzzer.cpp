// libFuzzer target for the HTTP request that opens every connection, before
// it is a WebSocket (and, for wss://, the first bytes TLS decrypts): the real
// HttpSession (detail/http/http_session.hpp) with a manager's state, over the
// unit tests' in-memory transport, with time that moves only when told to.
//
// The client's bytes arrive in pieces cut where the input says, the client
// then half-closes or goes silent until the handshake deadline, and what the
// server wrote is checked against what it may answer:
//
// - the request as Beast parses it, with HttpSession's settings (the header
//   limit, eager body) and fed as HttpSession's reads receive it, decides
//   whether there must be an answer: 431, 413 or 400 for a refused request,
//   none for one cut short or never finished, and for a complete one the
//   status that finch's admission rules give (a small model of them below,
//   written from Options' documentation);
// - an answer other than 101 is one well-formed HTTP response and nothing
//   more: Content-Length matching its body, not keep-alive, then a FIN;
// - a 101 carries the Sec-WebSocket-Accept that Beast computes for the key,
//   a subprotocol the client offered and the server may speak, and an
//   extension answer that Beast's own permessage-deflate reader accepts and
//   that fits one of the client's offers (RFC 7692 7.1);
// - at the end, with the transport closed and the timers cancelled, the
//   sessions are gone and the connection slot is given back.
//
// A broken invariant prints one line (`http_fuzzer: ...`) and traps.

#include "../support/memory_transport.hpp"

#include <finch/detail/deflate/deflate_offer.hpp>
#include <finch/detail/http/http_session.hpp>
#include <finch/detail/manager/manager_state.hpp>
#include <finch/options.hpp>
#include <finch/permessage_deflate.hpp>
#include <finch/socket_manager.hpp>
#include <finch/upgrade.hpp>

#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/websocket/detail/hybi13.hpp>
#include <boost/beast/websocket/detail/pmd_extension.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

namespace http = boost::beast::http;
using boost::system::error_code;
using Transport = finch::test::MemoryTransport;
using State = finch::detail::ManagerState<Transport, finch::NoUserData>;
using HttpSession = finch::detail::HttpSession<Transport, finch::NoUserData>;

void require(bool condition, const char* what)
{
    if (!condition) {
        std::fprintf(stderr, "http_fuzzer: %s\n", what);
        __builtin_trap();
    }
}

// ---------------------------------------------------------------------------
// What the input asks for: 5 bytes of settings, then the client's bytes.

struct Config {
    bool compression = false;
    bool clientTakeover = false;  // PerMessageDeflate::clientContextTakeover, and a server window of 10
    bool subprotocols = false;  // Options::subprotocols = {"chat", "superchat"}
    bool acceptWithout = false;  // SubprotocolMismatch::acceptWithout instead of refuse
    bool binaryEncodings = false;  // Options::encodings json, msgpack and cbor
    bool origins = false;  // Options::allowedOrigins = {"https://example.com"}
    bool everyTarget = false;  // the listener's target "*" instead of "/ws"
    bool noSlot = false;  // maxConnections reached: every complete request gets 503
    std::size_t maxHeaderBytes = 8 * 1024;
    bool httpHandler = false;
    bool upgradeHandler = false;
    bool fin = false;  // the client half-closes after its bytes; else it goes silent
    std::size_t readLimit = 0;  // most bytes one read of the server gets; 0: no limit
    std::size_t pieces[3] = {};  // the first pieces' sizes (0: none); the rest follows in one
};

constexpr std::size_t prefixSize = 5;

Config configOf(const std::uint8_t* p)
{
    Config c;
    c.compression = (p[0] & 0x01) != 0;
    c.clientTakeover = (p[0] & 0x02) != 0;
    c.subprotocols = (p[0] & 0x04) != 0;
    c.acceptWithout = (p[0] & 0x08) != 0;
    c.binaryEncodings = (p[0] & 0x10) != 0;
    c.origins = (p[0] & 0x20) != 0;
    c.everyTarget = (p[0] & 0x40) != 0;
    c.noSlot = (p[0] & 0x80) != 0;
    // Small limits, so that an input of a few hundred bytes reaches them.
    static constexpr std::size_t headerLimits[] = {8 * 1024, 128, 512, 2048};
    c.maxHeaderBytes = headerLimits[p[1] & 0x03];
    c.httpHandler = (p[1] & 0x04) != 0;
    c.upgradeHandler = (p[1] & 0x08) != 0;
    c.fin = (p[1] & 0x10) != 0;
    static constexpr std::size_t readLimits[] = {0, 1, 7, 300};
    c.readLimit = readLimits[(p[1] >> 5) & 0x03];
    for (std::size_t i = 0; i < 3; ++i)
        c.pieces[i] = p[2 + i];
    return c;
}

finch::Options optionsOf(const Config& c)
{
    finch::Options options;
    options.maxHeaderBytes = c.maxHeaderBytes;
    if (c.noSlot)
        options.maxConnections = 1;  // the fuzzer takes the only slot itself
    if (c.subprotocols)
        options.subprotocols = {"chat", "superchat"};
    if (c.acceptWithout)
        options.subprotocolMismatch = finch::SubprotocolMismatch::acceptWithout;
    if (c.binaryEncodings)
        options.encodings = {finch::Encoding::json, finch::Encoding::msgpack, finch::Encoding::cbor};
    if (c.origins)
        options.allowedOrigins = {"https://example.com"};
    if (c.compression) {
        finch::PerMessageDeflate settings;
        if (c.clientTakeover) {
            settings.clientContextTakeover = true;
            settings.serverMaxWindowBits = 10;
        }
        options.compression = finch::permessageDeflate(settings);
    }
    return options;
}

// ---------------------------------------------------------------------------
// The application's handlers, steered by the request target's query, so that
// the fuzzer reaches each of their outcomes with a few bytes.

// The HTTP handler answers 200, or throws when the target holds "throw".
finch::Response httpHandler(const finch::Request& request)
{
    if (request.target().find("throw") != boost::beast::string_view::npos)
        throw std::runtime_error("the application failed");
    finch::Response response{http::status::ok, request.version()};
    response.set(http::field::content_type, "text/plain");
    response.body() = "ok\n";
    return response;
}

enum class Plan { accept, refuse, fail, pick, never };

struct HandlerPlan {
    Plan plan = Plan::accept;
    std::string pick;  // for Plan::pick: the target's text after "pick=", up to '&'
};

HandlerPlan planOf(std::string_view target)
{
    HandlerPlan out;
    if (target.find("refuse") != std::string_view::npos) {
        out.plan = Plan::refuse;
    } else if (target.find("throw") != std::string_view::npos) {
        out.plan = Plan::fail;
    } else if (target.find("later") != std::string_view::npos) {
        out.plan = Plan::never;
    } else if (const auto at = target.find("pick="); at != std::string_view::npos) {
        out.plan = Plan::pick;
        const auto value = target.substr(at + 5);
        out.pick = std::string(value.substr(0, value.find('&')));
    }
    return out;
}

// The upgrade handler decides at once, except for Plan::never: then the
// completion is kept and called only after the deadline, which must ignore it.
struct UpgradeHandler {
    std::shared_ptr<std::optional<finch::UpgradeCompletion>> late;

    void operator()(const finch::Request& request, finch::UpgradeCompletion done) const
    {
        const std::string_view target(request.target().data(), request.target().size());
        const HandlerPlan plan = planOf(target);
        switch (plan.plan) {
        case Plan::accept:
            return done(finch::UpgradeDecision::accept("user"));
        case Plan::refuse:
            return done(finch::UpgradeDecision::refuse(
                http::status::unauthorized, "log in first\n", {{"WWW-Authenticate", "Basic"}}));
        case Plan::fail:
            throw std::runtime_error("the application failed");
        case Plan::pick:
            return done(finch::UpgradeDecision::accept("user").withSubprotocol(plan.pick));
        case Plan::never:
            *late = std::move(done);
            return;
        }
    }
};

// ---------------------------------------------------------------------------
// The oracle: the client's bytes parsed by Beast as HttpSession's parser is
// set up, and finch's admission rules as Options documents them.

// The pieces the client writes: the input's three first sizes, then the rest.
std::vector<std::string_view> piecesOf(std::string_view bytes, const Config& c)
{
    std::vector<std::string_view> out;
    for (const std::size_t piece : c.pieces) {
        const std::size_t take = std::min(piece, bytes.size());
        if (take == 0)
            continue;
        out.push_back(bytes.substr(0, take));
        bytes.remove_prefix(take);
    }
    if (!bytes.empty())
        out.push_back(bytes);
    return out;
}

struct Parsed {
    enum { complete, refused, unfinished } outcome = unfinished;
    error_code error;  // for `refused`
    std::optional<finch::Request> request;  // for `complete`
};

// Beast's verdict on a malformed header depends on where the bytes are cut:
// its first attempt parses the lines as they are, and after `need_more` it
// only looks for the blank line ("\r\n\r\n") before trying again. A
// header with a bare "\n" is then refused (400) when it comes in one piece,
// and waits for a blank line that never comes (no answer) when it comes in
// several. So the oracle feeds Beast's parser as HttpSession's reads do: each
// piece the client writes is read in blocks of the transport's read limit and
// HttpSession's read size (4096), everything not yet consumed offered after
// each read, and again only while the parser goes on without asking for more.
Parsed parseAsRead(std::string_view bytes, const Config& c)
{
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(c.maxHeaderBytes));
    parser.eager(true);
    const std::size_t readSize = c.readLimit == 0 ? 4096 : std::min<std::size_t>(c.readLimit, 4096);
    Parsed out;
    error_code ec;
    std::string buffer;  // read and not consumed
    for (std::string_view piece : piecesOf(bytes, c)) {
        // Each round reads at least one byte of the piece.
        while (!piece.empty() && !ec && !parser.is_done()) {
            const std::size_t take = std::min(readSize, piece.size());
            buffer.append(piece.substr(0, take));
            piece.remove_prefix(take);
            // Each round consumes bytes or stops, so there are at most size + 1.
            for (std::size_t round = 0; round <= buffer.size() && !buffer.empty(); ++round) {
                // As HttpSession: a chunked body is offered 5 bytes at least
                // (Beast asserts on fewer at the last chunk's line).
                if (parser.is_header_done() && parser.chunked() && buffer.size() < 5)
                    break;
                const std::size_t used = parser.put(boost::asio::buffer(buffer.data(), buffer.size()), ec);
                buffer.erase(0, used);
                // need_more: the parser wants bytes it has not seen yet.
                // Offering the same ones again breaks its assumptions (a
                // BOOST_ASSERT in parse_chunk_header), as Beast's own
                // http::read never does.
                if (ec == http::error::need_more) {
                    ec = {};
                    break;
                }
                if (ec || parser.is_done() || used == 0)
                    break;
            }
        }
    }
    if (!ec && !parser.is_done() && c.fin && parser.got_some()) {
        parser.put_eof(ec);
        if (!ec && !parser.is_done())
            ec = http::error::partial_message;
    }
    if (ec) {
        // Cut short by the client: no answer, as for unfinished.
        if (ec != http::error::partial_message && ec != http::error::end_of_stream) {
            out.outcome = Parsed::refused;
            out.error = ec;
        }
        return out;
    }
    if (parser.is_done()) {
        out.outcome = Parsed::complete;
        out.request = parser.release();
    }
    return out;
}

// The client's subprotocols, every Sec-WebSocket-Protocol field split at
// commas, blanks trimmed, empty elements dropped (RFC 7230 7).
std::vector<std::string> offeredOf(const finch::Request& request)
{
    std::vector<std::string> out;
    const auto range = request.equal_range(http::field::sec_websocket_protocol);
    for (auto field = range.first; field != range.second; ++field) {
        std::string element;
        const auto flush = [&] {
            const auto first = element.find_first_not_of(" \t");
            if (first != std::string::npos)
                out.push_back(element.substr(first, element.find_last_not_of(" \t") + 1 - first));
            element.clear();
        };
        for (const char ch : field->value()) {
            if (ch == ',')
                flush();
            else
                element += ch;
        }
        flush();
    }
    return out;
}

// RFC 6455 4.1: 16 bytes in base64, so 22 characters of the alphabet and "==".
bool isKey(std::string_view key)
{
    if (key.size() != 24 || key.substr(22) != "==")
        return false;
    return std::all_of(key.begin(), key.begin() + 22, [](char ch) {
        return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '+' ||
            ch == '/';
    });
}

struct Expected {
    unsigned status = 0;  // 0: no answer at all
    std::string subprotocol;  // of a 101
};

// What a complete request gets, from Options' and UpgradeDecision's documentation.
Expected expectedFor(const finch::Request& request, const Config& c)
{
    if (c.noSlot)
        return {503, {}};
    const std::string_view target(request.target().data(), request.target().size());
    const bool isUpgrade = boost::beast::websocket::is_upgrade(request);
    const bool onEndpoint = c.everyTarget ? isUpgrade : target.substr(0, target.find('?')) == "/ws";
    if (!onEndpoint) {
        if (c.httpHandler)
            return {target.find("throw") != std::string_view::npos ? 500u : 200u, {}};
        return {c.everyTarget ? 426u : 404u, {}};
    }
    if (!isUpgrade)
        return {426, {}};
    const auto version = request.find(http::field::sec_websocket_version);
    if (version == request.end() || version->value() != "13")
        return {426, {}};
    const auto key = request.find(http::field::sec_websocket_key);
    if (key == request.end() || !isKey(std::string_view(key->value().data(), key->value().size())))
        return {400, {}};
    const auto origin = request.find(http::field::origin);
    if (c.origins && origin != request.end() && !boost::beast::iequals(origin->value(), "https://example.com"))
        return {403, {}};
    const std::vector<std::string> offered = offeredOf(request);
    const auto isOffered = [&](const std::string& name) {
        return std::find(offered.begin(), offered.end(), name) != offered.end();
    };
    if (c.upgradeHandler) {
        const HandlerPlan plan = planOf(target);
        switch (plan.plan) {
        case Plan::accept:
            break;
        case Plan::refuse:
            return {401, {}};
        case Plan::fail:
            return {500, {}};
        case Plan::never:
            return {0, {}};
        case Plan::pick:
            // A subprotocol the client did not offer is the handler's error.
            if (!plan.pick.empty() && !isOffered(plan.pick))
                return {500, {}};
            return {101, plan.pick};
        }
    }
    std::vector<std::string> spoken;
    if (c.subprotocols)
        spoken = {"chat", "superchat"};
    std::vector<std::string> negotiable = spoken;
    if (c.binaryEncodings)
        negotiable.insert(negotiable.end(), {"finch.json", "finch.msgpack", "finch.cbor"});
    // The client's order decides.
    for (const auto& name : offered)
        if (std::find(negotiable.begin(), negotiable.end(), name) != negotiable.end())
            return {101, name};
    if (!offered.empty() && !spoken.empty() && !c.acceptWithout)
        return {400, {}};
    return {101, {}};
}

// ---------------------------------------------------------------------------
// Checks of what the server wrote.

// Whether the 101's extension answer (Beast's reading of it: `answer`) fits
// one permessage-deflate offer of the client (RFC 7692 5, 7.1).
bool fitsAnOffer(const finch::Request& request, const boost::beast::websocket::detail::pmd_offer& answer)
{
    const auto range = request.equal_range(http::field::sec_websocket_extensions);
    for (auto field = range.first; field != range.second; ++field) {
        const auto offers = finch::detail::parseExtensionOffers(
            std::string_view(field->value().data(), field->value().size()));
        if (!offers)
            return false;  // finch declines every offer after a value it cannot read
        for (const auto& offer : *offers) {
            if (!boost::beast::iequals(offer.name, "permessage-deflate"))
                continue;
            bool fits = true;
            bool askedClientWindow = false;
            std::optional<int> clientMax;
            std::optional<int> serverMax;
            for (const auto& [key, value] : offer.params) {
                const std::string digits = value.value_or("");
                const bool number = digits.size() <= 2 && !digits.empty() &&
                    std::all_of(digits.begin(), digits.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
                if (key == "client_max_window_bits") {
                    askedClientWindow = true;
                    if (value)
                        clientMax = number ? std::stoi(digits) : 0;
                } else if (key == "server_max_window_bits") {
                    serverMax = number ? std::stoi(digits) : 0;
                } else if (key != "server_no_context_takeover" && key != "client_no_context_takeover") {
                    fits = false;  // an unknown parameter: the offer must be declined
                }
            }
            // The server may limit the client's window only if the client said it can be limited.
            if (answer.client_max_window_bits != 0 &&
                (!askedClientWindow || (clientMax && answer.client_max_window_bits > *clientMax)))
                fits = false;
            // A server window the client asked for is answered, and not exceeded.
            if (serverMax && (answer.server_max_window_bits == 0 || answer.server_max_window_bits > *serverMax))
                fits = false;
            if (fits)
                return true;
        }
    }
    return false;
}

void check101(std::string_view wire, const finch::Request& request, const Config& c, const Expected& expected)
{
    http::response_parser<http::string_body> parser;
    error_code ec;
    parser.put(boost::asio::buffer(wire.data(), wire.size()), ec);
    require(!ec && parser.is_header_done(), "the 101 does not parse");
    const auto& response = parser.get();
    require(response.result_int() == 101, "not a 101");
    require(boost::beast::iequals(response[http::field::upgrade], "websocket"), "the 101 lacks Upgrade: websocket");
    require(boost::beast::iequals(response[http::field::connection], "upgrade"), "the 101 lacks Connection: Upgrade");

    boost::beast::websocket::detail::sec_ws_accept_type accept;
    boost::beast::websocket::detail::make_sec_ws_accept(accept, request[http::field::sec_websocket_key]);
    require(response.count(http::field::sec_websocket_accept) == 1 &&
            response[http::field::sec_websocket_accept] == boost::beast::string_view(accept.data(), accept.size()),
        "Sec-WebSocket-Accept is not Beast's for the key");

    const auto protocol = response.find(http::field::sec_websocket_protocol);
    if (expected.subprotocol.empty()) {
        require(protocol == response.end(), "a subprotocol nobody chose");
    } else {
        require(response.count(http::field::sec_websocket_protocol) == 1 && protocol->value() == expected.subprotocol,
            "not the subprotocol expected");
        const auto offered = offeredOf(request);
        require(std::find(offered.begin(), offered.end(), expected.subprotocol) != offered.end(),
            "a subprotocol the client did not offer");
    }

    const auto extensions = response.find(http::field::sec_websocket_extensions);
    if (extensions == response.end())
        return;
    require(c.compression, "an extension accepted without Options::compression");
    require(response.count(http::field::sec_websocket_extensions) == 1, "two extension answers");
    // finch's own reader of offers must read its answer back as one permessage-deflate...
    const auto reread = finch::detail::parseExtensionOffers(
        std::string_view(extensions->value().data(), extensions->value().size()));
    require(reread && reread->size() == 1 && reread->front().name == "permessage-deflate",
        "the extension answer does not parse");
    // ... and so must Beast's, a client's, with the parameters in range.
    boost::beast::websocket::detail::pmd_offer answer{};
    boost::beast::websocket::detail::pmd_read(answer, response);
    require(answer.accept, "Beast does not read the extension answer");
    require(answer.server_no_context_takeover, "server_no_context_takeover missing");
    require(answer.server_max_window_bits == 0 ||
            (answer.server_max_window_bits >= 9 && answer.server_max_window_bits <= 15),
        "server_max_window_bits out of range");
    require(answer.client_max_window_bits == 0 ||
            (answer.client_max_window_bits >= 8 && answer.client_max_window_bits <= 15),
        "client_max_window_bits without a value, or out of range");
    require(fitsAnOffer(request, answer), "the extension answer fits none of the client's offers");
}

void checkPlainAnswer(std::string_view wire, unsigned status)
{
    http::response_parser<http::string_body> parser;
    parser.eager(true);
    error_code ec;
    const std::size_t used = parser.put(boost::asio::buffer(wire.data(), wire.size()), ec);
    require(!ec && parser.is_header_done(), "the answer does not parse as an HTTP response");
    const auto& response = parser.get();
    // First, so that a 101 (and the frames behind it) where none was due says so.
    require(response.result_int() == status, "not the status expected");
    require(parser.is_done(), "the answer's body is cut short");
    require(used == wire.size(), "bytes after the answer");
    require(!response.keep_alive(), "the answer keeps the connection alive");
    require(response.has_content_length(), "the answer has no Content-Length");
    require(response.count(http::field::server) == 1, "the answer lacks Server");
    if (status == 426) {
        require(boost::beast::iequals(response[http::field::upgrade], "websocket"), "a 426 that names no protocol");
        require(response[http::field::sec_websocket_version] == "13", "a 426 without Sec-WebSocket-Version: 13");
    }
    if (status == 503)
        require(response.count(http::field::retry_after) == 1, "a 503 without Retry-After");
    if (status == 401)
        require(response[http::field::www_authenticate] == "Basic", "the refusal's header was lost");
}

// ---------------------------------------------------------------------------
// One connection.

struct Connection {
    boost::asio::io_context io;
    finch::test::ManualClock clock;
    std::shared_ptr<finch::test::MemoryPipe> pipe;

    Connection()
        : pipe(std::make_shared<finch::test::MemoryPipe>(io.get_executor(), clock))
    {
    }

    // Runs every handler that is ready, until none is. Nothing here loops on
    // its own: a connection that keeps posting work without input is a bug.
    void settle()
    {
        for (int round = 0;; ++round) {
            require(round < 10000, "handlers keep coming without input");
            io.restart();
            if (io.poll() == 0)
                return;
        }
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    // HttpSession reads at most 64 KiB ahead of its parser; the oracle has no
    // such bound, so stay well within it.
    if (size < prefixSize || size > 32 * 1024)
        return 0;
    const Config config = configOf(data);
    const std::string_view bytes(reinterpret_cast<const char*>(data) + prefixSize, size - prefixSize);

    Parsed parsed;
    Expected expected;
    std::string wire;  // what the server wrote
    bool closedAtEnd = false;
    {
        Connection connection;
        auto& pipe = *connection.pipe;
        if (config.readLimit != 0)
            pipe.setReadLimit(config.readLimit);
        auto state = std::make_shared<State>(connection.io.get_executor(), State::EventType{}, optionsOf(config));
        if (config.httpHandler)
            state->setHttpHandler(httpHandler);
        auto late = std::make_shared<std::optional<finch::UpgradeCompletion>>();
        if (config.upgradeHandler)
            state->setUpgradeHandler(UpgradeHandler{late});
        // With maxConnections 1, holding the only slot leaves none for the connection.
        finch::detail::ConnectionSlots::Lease taken;
        if (config.noSlot)
            taken = state->slots.tryAcquire();
        std::weak_ptr<HttpSession> watch;
        {
            auto session = std::make_shared<HttpSession>(state, Transport(connection.pipe),
                std::make_shared<const std::string>(config.everyTarget ? "*" : "/ws"), state->slots.tryAcquire());
            watch = session;
            session->run();
        }
        connection.settle();

        // The client's bytes, in the pieces the input asks for, each read
        // before the next arrives.
        for (const std::string_view piece : piecesOf(bytes, config)) {
            pipe.write(std::string(piece));
            connection.settle();
        }
        if (config.fin) {
            pipe.closeWrite();
            connection.settle();
        }
        wire += pipe.read();
        connection.settle();
        // Past the handshake deadline: whatever is still waiting ends.
        connection.clock.advance(state->options.handshakeTimeout + std::chrono::seconds(1));
        connection.settle();
        // A decision after the deadline is ignored.
        if (late->has_value()) {
            (**late)(finch::UpgradeDecision::accept("late"));
            late->reset();
            connection.settle();
        }
        wire += pipe.read();
        connection.settle();
        closedAtEnd = pipe.serverClosed();

        // The oracle runs after finch, so that a failure inside Beast's
        // parser on finch's path shows finch's stack, not the oracle's.
        parsed = parseAsRead(bytes, config);
        if (parsed.outcome == Parsed::refused) {
            if (parsed.error == http::error::header_limit)
                expected.status = 431;
            else if (parsed.error == http::error::body_limit)
                expected.status = 413;
            else
                expected.status = 400;
        } else if (parsed.outcome == Parsed::complete) {
            expected = expectedFor(*parsed.request, config);
        }

        if (expected.status == 101) {
            require(parsed.request.has_value(), "a 101 without a request");
            check101(wire, *parsed.request, config, expected);
        }

        // Tear down as stop() would: the transport closed, every timer
        // cancelled. Then nothing of the connection may be left.
        pipe.serverClose();
        connection.clock.cancelAll();
        connection.settle();
        require(watch.expired(), "the HTTP session outlived its connection");
        taken.release();
        require(state->slots.used() == 0, "a connection slot was not given back");
        require(state->registry.countClients() == 0, "a session is still registered");
    }

    // HTTP_FUZZER_VERBOSE=1: the status expected and the answer's header, for each input.
    static const bool verbose = std::getenv("HTTP_FUZZER_VERBOSE") != nullptr;
    if (verbose)
        std::fprintf(stderr, "http_fuzzer: expected %u, answered:\n%s\n", expected.status,
            wire.substr(0, std::min(wire.find("\r\n\r\n"), wire.size())).c_str());

    if (expected.status == 0) {
        require(wire.empty(), "an answer where none was due");
        require(closedAtEnd, "the connection stayed open past its deadline");
    } else if (expected.status != 101) {
        checkPlainAnswer(wire, expected.status);
        require(closedAtEnd, "the connection stayed open after its answer and deadline");
    }
    return 0;
}
