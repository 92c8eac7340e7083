// libFuzzer target that plays the same client bytes to two WebSocket servers
// and checks that they agree: finch's stream (detail/websocket/stream.hpp,
// over the in-memory transport of tests/support) and Boost.Beast's
// websocket::stream in the server role (over beast::test::stream).
//
// Input: byte 0 sets the message size limit of both (1 to 256 bytes, so that
// it is reached often); byte 1 how the bytes arrive (see Parameters); the
// rest is what the client sends after the upgrade. Then the client half-closes
// (FIN), and each side's outcome is collected:
//
// - the messages delivered, in order, with their kind;
// - the payloads of the pongs written;
// - the verdict: a clean closing handshake started by the client's close frame
//   (and the code echoed), a failure of the connection (and its close code:
//   1002, 1007 or 1009), or the input ending without either.
//
// The target traps when the two disagree, except in the cases below where
// RFC 6455 lets them differ or where Beast is wrong; each is normalised
// in one place (`Normalised`, compare()) with its reason. docs/fuzzing.md
// lists them.

#include "../support/client_frames.hpp"
#include "../support/stream_harness.hpp"

#include <finch/error.hpp>
#include <finch/options.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/_experimental/test/stream.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/system/error_code.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace websocket = boost::beast::websocket;
using boost::system::error_code;

// ---------------------------------------------------------------------------
// What the input asks for.

struct Parameters {
    std::size_t maxMessage = 0;  // both sides' message size limit
    std::size_t chunk = 0;  // finch: the client's bytes are written in pieces of this size;
                            // Beast: its transport returns at most this much per read
    bool keepalive = true;  // finch: the default pingInterval (it never fires: time stands
                            // still), which makes the stream receive into a block of its own
                            // once messages arrive; false: pingInterval 0, readiness waits only
    bool early = false;  // finch: the first piece comes with the upgrade request (runStream's
                         // `received`), as bytes a client sent right behind its request
};

// Byte 0: the limit. Byte 1: bits 0-5 the piece size (1 to 63, 63 meaning
// everything at once), bit 6 no keepalive, bit 7 the first piece early.
Parameters parametersOf(std::uint8_t limit, std::uint8_t flags)
{
    Parameters p;
    p.maxMessage = 1 + std::size_t{limit};
    p.chunk = (flags & 0x3F) == 0x3F ? std::numeric_limits<std::size_t>::max() : 1 + std::size_t(flags & 0x3F);
    p.keepalive = (flags & 0x40) == 0;
    p.early = (flags & 0x80) != 0;
    return p;
}

// ---------------------------------------------------------------------------
// Oracles of our own, independent of both implementations.

// RFC 3629 UTF-8, decoded one code point at a time: no overlong forms, no
// surrogates, nothing above U+10FFFF, nothing cut short at the end.
bool isUtf8(std::string_view text)
{
    std::size_t i = 0;
    while (i < text.size()) {
        const auto lead = static_cast<unsigned char>(text[i]);
        if (lead < 0x80) {
            ++i;
            continue;
        }
        std::size_t more = 0;
        std::uint32_t point = 0;
        std::uint32_t least = 0;
        if ((lead & 0xE0) == 0xC0) {
            more = 1;
            point = lead & 0x1Fu;
            least = 0x80;
        } else if ((lead & 0xF0) == 0xE0) {
            more = 2;
            point = lead & 0x0Fu;
            least = 0x800;
        } else if ((lead & 0xF8) == 0xF0) {
            more = 3;
            point = lead & 0x07u;
            least = 0x10000;
        } else {
            return false;
        }
        if (text.size() - i <= more)
            return false;
        for (std::size_t k = 1; k <= more; ++k) {
            const auto next = static_cast<unsigned char>(text[i + k]);
            if ((next & 0xC0) != 0x80)
                return false;
            point = point << 6 | (next & 0x3Fu);
        }
        if (point < least || point > 0x10FFFF || (point >= 0xD800 && point <= 0xDFFF))
            return false;
        i += more + 1;
    }
    return true;
}

// The client's bytes cut into frames by their length fields alone, with no
// other check: what a frame is, for the cases below that need to know which
// close frame the client sent, or whether its bytes end inside a header.
struct WalkedFrame {
    std::uint8_t opcode = 0;
    std::string payload;  // unmasked
};

struct Walk {
    std::vector<WalkedFrame> frames;  // the complete ones
    bool endsInHeader = false;  // the bytes end inside a frame's header
    std::size_t tailStart = 0;  // where that header starts
    std::string tail;  // its bytes
};

Walk walk(std::string_view bytes)
{
    Walk result;
    std::size_t at = 0;
    while (at < bytes.size()) {
        const std::size_t available = bytes.size() - at;
        const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(bytes[at + i]); };
        std::size_t header = 2;
        if (available >= 2) {
            const unsigned length7 = byte(1) & 0x7Fu;
            header += length7 == 126 ? 2 : length7 == 127 ? 8 : 0;
            header += (byte(1) & 0x80) ? 4 : 0;
        }
        if (available < header) {
            result.endsInHeader = true;
            result.tailStart = at;
            result.tail = std::string(bytes.substr(at));
            break;
        }
        std::uint64_t length = byte(1) & 0x7Fu;
        std::size_t position = 2;
        if (length == 126 || length == 127) {
            const std::size_t size = length == 126 ? 2 : 8;
            length = 0;
            for (std::size_t i = 0; i < size; ++i)
                length = length << 8 | byte(2 + i);
            position += size;
        }
        unsigned char mask[4] = {0, 0, 0, 0};
        if (byte(1) & 0x80) {
            for (std::size_t i = 0; i < 4; ++i)
                mask[i] = byte(position + i);
        }
        if (available - header < length)
            break;  // ends inside a payload
        WalkedFrame frame;
        frame.opcode = byte(0) & 0x0Fu;
        frame.payload = std::string(bytes.substr(at + header, static_cast<std::size_t>(length)));
        for (std::size_t i = 0; i < frame.payload.size(); ++i)
            frame.payload[i] = static_cast<char>(static_cast<unsigned char>(frame.payload[i]) ^ mask[i % 4]);
        result.frames.push_back(std::move(frame));
        at += header + static_cast<std::size_t>(length);
    }
    return result;
}

// The first close frame the client sent: its code (0: none), if it has one.
std::optional<std::uint16_t> firstCloseCode(const Walk& walked)
{
    for (const WalkedFrame& frame : walked.frames)
        if (frame.opcode == 8) {
            if (frame.payload.size() < 2)
                return std::uint16_t{0};
            return static_cast<std::uint16_t>(static_cast<unsigned char>(frame.payload[0]) << 8 |
                static_cast<unsigned char>(frame.payload[1]));
        }
    return std::nullopt;
}

// A header cut short, completed with values that break no rule where the
// bytes present leave the choice: the mask bit set and a length of 0 when
// the second byte is missing; the missing bytes of an extended length chosen
// so that it is minimal and below 2^63; a zero mask. So whatever check the
// completed header fails comes from the bytes the client did send.
std::string completedHeader(const std::string& tail)
{
    std::string header = tail;
    if (header.size() < 2)
        header += '\x80';
    const unsigned length7 = static_cast<unsigned char>(header[1]) & 0x7Fu;
    const std::size_t extended = length7 == 126 ? 2 : length7 == 127 ? 8 : 0;
    const bool highByteMissing = header.size() == 2;
    while (header.size() < 2 + extended) {
        if (header.size() == 2)
            header += '\x00';  // below 2^63, and below 2^16 for a 16-bit length
        else if (extended == 2 && highByteMissing)
            header += '\x7E';  // 126, the least a 16-bit length may say
        else
            header += '\xFF';  // at least 0xhhFF (16 bits) or 0xhhFFFF... (64 bits)
    }
    const bool masked = (static_cast<unsigned char>(header[1]) & 0x80) != 0;
    while (masked && header.size() < 2 + extended + 4)
        header += '\x00';
    return header;
}

// ---------------------------------------------------------------------------
// What each side did.

enum class Verdict { ended, clean, failed };

const char* nameOf(Verdict verdict)
{
    switch (verdict) {
    case Verdict::ended:
        return "input ended";
    case Verdict::clean:
        return "clean close";
    case Verdict::failed:
        return "failed";
    }
    return "?";
}

struct Outcome {
    std::vector<std::string> messages;  // "text:..." or "binary:..."
    std::vector<std::string> pongs;  // their payloads
    Verdict verdict = Verdict::ended;
    int closeCode = -1;  // of the close frame written; 0: one without a code; -1: none written
    std::string detail;  // finch's error or Beast's, for the report
};

std::string printable(std::string_view bytes)
{
    static const char hex[] = "0123456789abcdef";
    std::string out;
    for (const char c : bytes.substr(0, 200)) {
        const auto u = static_cast<unsigned char>(c);
        if (u >= 0x20 && u < 0x7F && u != '\\') {
            out += c;
        } else {
            out += "\\x";
            out += hex[u >> 4];
            out += hex[u & 15];
        }
    }
    if (bytes.size() > 200)
        out += "...";
    return out;
}

void print(const char* side, const Outcome& outcome)
{
    std::fprintf(stderr, "%s: %s, close code %d (%s)\n", side, nameOf(outcome.verdict), outcome.closeCode,
        outcome.detail.c_str());
    for (const std::string& message : outcome.messages)
        std::fprintf(stderr, "  message %s\n", printable(message).c_str());
    for (const std::string& pong : outcome.pongs)
        std::fprintf(stderr, "  pong %s\n", printable(pong).c_str());
}

// Everything needed to explain a failed check.
struct Context {
    const Parameters* parameters = nullptr;
    std::string_view bytes;
    const Outcome* finch = nullptr;
    const Outcome* beast = nullptr;
};
Context context;

[[noreturn]] void violated(const char* what)
{
    std::fprintf(stderr, "differential_fuzzer: %s\n", what);
    if (context.parameters)
        std::fprintf(stderr, "limit %zu, pieces of %zu, keepalive %d, early %d\n", context.parameters->maxMessage,
            context.parameters->chunk, context.parameters->keepalive, context.parameters->early);
    std::fprintf(stderr, "client bytes (%zu): %s\n", context.bytes.size(), printable(context.bytes).c_str());
    if (context.finch)
        print("finch", *context.finch);
    if (context.beast)
        print("beast", *context.beast);
    __builtin_trap();
}

void require(bool condition, const char* what)
{
    if (!condition)
        violated(what);
}

// The frames a server wrote after its 101: pongs, then at most one close
// frame, nothing else (neither side sends messages here), nothing cut short.
void readServerFrames(
    const std::vector<finch::test::ServerFrame>& frames, const std::string& rest, Outcome& outcome, const char* side)
{
    require(rest.empty(), side);
    for (const finch::test::ServerFrame& frame : frames) {
        require(outcome.closeCode == -1, "a frame after the close frame");
        require(frame.fin, "a fragmented server frame");
        if (frame.opcode == 10)
            outcome.pongs.push_back(frame.payload);
        else if (frame.opcode == 8)
            outcome.closeCode = frame.payload.empty() ? 0 : frame.closeCode();
        else
            violated("a server wrote a frame other than a pong or a close");
    }
}

// ---------------------------------------------------------------------------
// finch.

struct FinchRun {
    Outcome outcome;
    std::optional<finch::ErrorCode> failure;
};

bool isFinchError(const boost::system::error_code& code)
{
    return code.category() == finch::errorCategory();
}

FinchRun runFinch(std::string_view bytes, const Parameters& parameters)
{
    finch::Options options;
    options.maxMessageSize = parameters.maxMessage;
    if (!parameters.keepalive)
        options.pingInterval = std::chrono::milliseconds(0);
    // No budget: Options::maxIncomingBytes has no counterpart in Beast.
    finch::test::StreamHarness harness(options);
    harness.session->onMessage = nullptr;  // record only, no echo

    std::size_t offset = 0;
    const auto nextPiece = [&] {
        const std::size_t take = std::min(parameters.chunk, bytes.size() - offset);
        std::string piece(bytes.substr(offset, take));
        offset += take;
        return piece;
    };
    harness.start(parameters.early ? nextPiece() : std::string());
    while (offset < bytes.size())
        harness.send(nextPiece());
    harness.pipe->closeWrite();
    harness.settle();

    FinchRun run;
    Outcome& outcome = run.outcome;
    const auto& session = *harness.session;
    outcome.messages = session.messages;
    const std::vector<finch::test::ServerFrame> frames = harness.receive();
    readServerFrames(frames, harness.wire, outcome, "finch wrote part of a frame");
    require(session.ends == 1, "finch: the stream did not end exactly once");
    require(harness.pipe->serverClosed(), "finch: the transport is still open at the end");
    require(session.errors.size() <= 1, "finch: more than one error reported");

    if (!session.errors.empty()) {
        const boost::system::error_code code = session.errors.front().code;
        require(isFinchError(code), "finch: an error that is not a protocol failure");
        run.failure = static_cast<finch::ErrorCode>(code.value());
        outcome.verdict = Verdict::failed;
        outcome.detail = code.message();
        require(outcome.closeCode == finch::closeCodeOf(*run.failure), "finch: the close code is not the failure's");
    } else if (outcome.closeCode != -1) {
        outcome.verdict = Verdict::clean;
        outcome.detail = "closing handshake";
        require(!session.endCause, "finch: a clean close that reports an error");
    } else {
        outcome.verdict = Verdict::ended;
        outcome.detail = session.endCause.message();
        require(session.endCause == boost::asio::error::eof, "finch: ended by something other than the FIN");
    }
    return run;
}

// ---------------------------------------------------------------------------
// Beast.

struct BeastRun {
    Outcome outcome;
    error_code error;  // what read() returned last
    int receivedCode = -1;  // the client's close code, from reason(), after a clean close (0: none)
};

constexpr std::string_view upgradeRequest = "GET / HTTP/1.1\r\n"
                                            "Host: localhost\r\n"
                                            "Upgrade: websocket\r\n"
                                            "Connection: Upgrade\r\n"
                                            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                            "Sec-WebSocket-Version: 13\r\n"
                                            "\r\n";

// The close code Beast sends for the error its read returned.
int beastCloseCodeFor(const error_code& error)
{
    if (error == websocket::error::message_too_big)
        return 1009;
    if (error == websocket::error::bad_frame_payload)
        return 1007;
    return 1002;
}

BeastRun runBeast(std::string_view bytes, const Parameters& parameters)
{
    // Beast's synchronous operations on test::stream never run the context.
    static boost::asio::io_context io;
    boost::beast::test::stream client(io);
    websocket::stream<boost::beast::test::stream> ws(io);
    ws.next_layer().connect(client);
    ws.next_layer().read_size(parameters.chunk);
    ws.read_message_max(parameters.maxMessage);
    ws.next_layer().append(upgradeRequest);
    BeastRun run;
    ws.accept(run.error);
    require(!run.error, "beast refused the upgrade request");
    ws.next_layer().append(bytes);
    ws.next_layer().close_remote();

    Outcome& outcome = run.outcome;
    for (;;) {
        boost::beast::flat_buffer buffer;
        ws.read(buffer, run.error);
        if (run.error)
            break;
        outcome.messages.push_back((ws.got_text() ? "text:" : "binary:") + boost::beast::buffers_to_string(buffer.data()));
    }
    outcome.detail = run.error.message();

    const std::string written(client.str());
    const std::size_t headEnd = written.find("\r\n\r\n");
    require(written.rfind("HTTP/1.1 101", 0) == 0 && headEnd != std::string::npos, "beast: no 101 response");
    std::string wire = written.substr(headEnd + 4);
    const std::vector<finch::test::ServerFrame> frames = finch::test::takeServerFrames(wire);
    readServerFrames(frames, wire, outcome, "beast wrote part of a frame");

    if (run.error == websocket::error::closed) {
        outcome.verdict = Verdict::clean;
        run.receivedCode = ws.reason().code == websocket::close_code::none ? 0 : ws.reason().code;
        require(outcome.closeCode != -1, "beast: closed without a close frame");
    } else if (run.error == boost::asio::error::eof) {
        outcome.verdict = Verdict::ended;
        require(outcome.closeCode == -1, "beast: a close frame, then the end of the input reported");
    } else if (run.error.category() == error_code(websocket::error::closed).category()) {
        outcome.verdict = Verdict::failed;
        require(outcome.closeCode == beastCloseCodeFor(run.error), "beast: the close code is not the error's");
    } else {
        violated("beast: an unexpected error from read()");
    }
    return run;
}

// ---------------------------------------------------------------------------
// The comparison.

// Where finch and Beast may rightly differ, or where Beast is wrong and finch
// right. Each case is checked as narrowly as it can be; anything else that
// differs is a mismatch.
enum class Normalised {
    none,
    // 1. The client's close frame has no code. finch answers with a close
    //    frame without a code, Beast with 1000. RFC 6455 5.5.1: the answer
    //    "typically echos the status code it received"; with none received,
    //    both answers are allowed (7.1.5: no code means 1005, which 7.4.1
    //    forbids sending). A matter of choice.
    closeWithoutCode,
    // 2. The client closes with 1014 (Bad Gateway): finch accepts it, Beast
    //    fails the connection with 1002 (bad_close_code). RFC 6455 7.4.2
    //    reserves 1000-2999 for the protocol and public extensions; 1014 was
    //    registered in IANA's WebSocket Close Code Number Registry after Beast
    //    wrote its list. A matter of choice, finch following the registry.
    closeCode1014,
    // 3. The client closes with a code from 5000 to 65535: finch fails the
    //    connection with 1002 (invalidCloseCode), Beast accepts and echoes it.
    //    RFC 6455 7.4.2 defines no code above 4999, and says nothing of what
    //    a receiver does with one. A matter of choice.
    closeCodeAbove4999,
    // 4. The client's close reason is not UTF-8: finch fails with 1007, Beast
    //    with 1002. RFC 6455 5.5.1 wants the reason UTF-8, 8.1 a failure when
    //    it is not, and 7.4.1 gives 1007 for "data within a message that was
    //    not consistent with the type of the message" while 1002 is any
    //    protocol error; Autobahn's case 7.5.1 accepts either. A matter of choice.
    closeReasonNotUtf8,
    // 5. A 64-bit payload length with its most significant bit set: finch
    //    fails with 1002 (lengthOutOfRange: RFC 6455 5.2, "the most
    //    significant bit MUST be 0"), Beast does not check that bit and fails
    //    with 1009 only because such a length passes any limit. finch is
    //    right; Beast's quirk is harmless while a limit is set.
    lengthMostSignificantBit,
    // 6. The client's bytes end inside a frame header that already breaks a
    //    rule: finch fails at the first byte that breaks it, Beast waits for
    //    the whole header before checking anything and sees the end of the
    //    input. RFC 6455 says a server must fail the connection (5.2, 7.1.7),
    //    not how soon. Checked: finch on the bytes before that header ends
    //    without a verdict, and Beast, given the header completed by bytes
    //    that break no rule, fails as finch did.
    headerCutShort,
    // 7. A text message whose last fragment is empty and whose text before
    //    it ends in the middle of a UTF-8 sequence: finch fails with 1007,
    //    Beast delivers it. Beast checks that the text is complete only after
    //    a frame with payload (utf8_checker::finish() is never called for an
    //    empty final frame), so it accepts text that is not UTF-8, against
    //    RFC 6455 8.1, and its checker keeps the half sequence into the next
    //    text message. finch is right; Beast's bug. Checked with our own UTF-8
    //    decoder; nothing after that message is compared.
    beastDeliveredInvalidUtf8,
};

const char* nameOf(Normalised normalised)
{
    switch (normalised) {
    case Normalised::none:
        return "none";
    case Normalised::closeWithoutCode:
        return "1. close without a code";
    case Normalised::closeCode1014:
        return "2. close code 1014";
    case Normalised::closeCodeAbove4999:
        return "3. close code above 4999";
    case Normalised::closeReasonNotUtf8:
        return "4. close reason not UTF-8";
    case Normalised::lengthMostSignificantBit:
        return "5. 64-bit length with its top bit set";
    case Normalised::headerCutShort:
        return "6. header cut short";
    case Normalised::beastDeliveredInvalidUtf8:
        return "7. beast delivered invalid UTF-8";
    }
    return "?";
}

// finch's failures found in a frame header, before any payload.
bool isHeaderFailure(finch::ErrorCode failure)
{
    switch (failure) {
    case finch::ErrorCode::reservedBits:
    case finch::ErrorCode::unmaskedFrame:
    case finch::ErrorCode::unknownOpcode:
    case finch::ErrorCode::unexpectedContinuation:
    case finch::ErrorCode::unfinishedMessage:
    case finch::ErrorCode::fragmentedControlFrame:
    case finch::ErrorCode::controlFrameTooLong:
    case finch::ErrorCode::nonMinimalLength:
    case finch::ErrorCode::lengthOutOfRange:
    case finch::ErrorCode::messageTooBig:
        return true;
    default:
        return false;
    }
}

// Whether finch's failure and Beast's are the same, or differ only as
// normalisation 2, 4 or 5 allows. `sent`: the client's first close code.
Normalised sameFailure(const FinchRun& finch, const BeastRun& beast, std::optional<std::uint16_t> sent)
{
    if (finch.outcome.closeCode == beast.outcome.closeCode)
        return Normalised::none;
    // 1014 with a reason that is not UTF-8: finch accepts the code, then
    // fails on the reason (1007); Beast fails on the code (1002).
    if (finch.failure == finch::ErrorCode::invalidCloseReason && beast.error == websocket::error::bad_close_code &&
        sent == 1014)
        return Normalised::closeCode1014;
    if (finch.failure == finch::ErrorCode::invalidCloseReason && beast.error == websocket::error::bad_close_payload)
        return Normalised::closeReasonNotUtf8;
    if (finch.failure == finch::ErrorCode::lengthOutOfRange && beast.error == websocket::error::message_too_big)
        return Normalised::lengthMostSignificantBit;
    violated("finch and beast failed with different close codes");
}

bool isSubsequence(const std::vector<std::string>& part, const std::vector<std::string>& whole)
{
    std::size_t at = 0;
    for (const std::string& item : whole)
        if (at < part.size() && part[at] == item)
            ++at;
    return at == part.size();
}

Normalised compare(std::string_view bytes, const Parameters& parameters, const FinchRun& finch, const BeastRun& beast)
{
    // What finch delivers is valid, whatever Beast does.
    for (const std::string& message : finch.outcome.messages)
        if (message.rfind("text:", 0) == 0)
            require(isUtf8(std::string_view(message).substr(5)), "finch delivered text that is not UTF-8");

    // 7. Beast delivered text that is not UTF-8: finch must have failed with
    //    1007 on that very message, after the same messages before it.
    const std::vector<std::string>& beastMessages = beast.outcome.messages;
    for (std::size_t i = 0; i < beastMessages.size(); ++i) {
        if (beastMessages[i].rfind("text:", 0) != 0 || isUtf8(std::string_view(beastMessages[i]).substr(5)))
            continue;
        require(finch.failure == finch::ErrorCode::invalidUtf8, "beast delivered invalid UTF-8 and finch did not fail");
        require(std::vector<std::string>(beastMessages.begin(), beastMessages.begin() + static_cast<std::ptrdiff_t>(i)) ==
                finch.outcome.messages,
            "beast delivered invalid UTF-8 after other messages than finch");
        require(isSubsequence(finch.outcome.pongs, beast.outcome.pongs), "finch sent pongs beast did not");
        return Normalised::beastDeliveredInvalidUtf8;
    }

    require(finch.outcome.messages == beastMessages, "different messages");

    // Pongs: each ping answered, in order. finch may answer only the latest
    // of many pings that wait to be answered (RFC 6455 5.5.3), so its pongs
    // are among Beast's, and the last one is the same.
    require(isSubsequence(finch.outcome.pongs, beast.outcome.pongs), "finch sent pongs beast did not");
    require(finch.outcome.pongs.empty() == beast.outcome.pongs.empty() &&
            (finch.outcome.pongs.empty() || finch.outcome.pongs.back() == beast.outcome.pongs.back()),
        "the last pongs differ");

    const Outcome& f = finch.outcome;
    const Outcome& b = beast.outcome;
    const Walk walked = walk(bytes);
    const std::optional<std::uint16_t> sent = firstCloseCode(walked);

    if (f.verdict == Verdict::clean && b.verdict == Verdict::clean) {
        require(sent.has_value(), "a clean close without a close frame from the client");
        require(beast.receivedCode == *sent, "beast's reason() is not the client's close code");
        require(f.closeCode == *sent, "finch did not echo the client's close code");
        if (*sent == 0) {
            // 1. No code: finch answers without one, Beast with 1000.
            require(b.closeCode == 1000, "beast answered a close without a code with something else than 1000");
            return Normalised::closeWithoutCode;
        }
        require(b.closeCode == *sent, "beast did not echo the client's close code");
        return Normalised::none;
    }
    if (f.verdict == Verdict::failed && b.verdict == Verdict::failed)
        return sameFailure(finch, beast, sent);
    if (f.verdict == Verdict::ended && b.verdict == Verdict::ended)
        return Normalised::none;

    // 2. 1014: finch accepts it, Beast refuses it.
    if (beast.error == websocket::error::bad_close_code && sent == 1014 && f.verdict == Verdict::clean &&
        f.closeCode == 1014)
        return Normalised::closeCode1014;
    // 3. Above 4999: finch refuses it, Beast accepts and echoes it.
    if (finch.failure == finch::ErrorCode::invalidCloseCode && b.verdict == Verdict::clean && sent && *sent > 4999 &&
        b.closeCode == *sent && beast.receivedCode == *sent)
        return Normalised::closeCodeAbove4999;
    // 6. finch failed inside a header the input cut short; Beast waited for the rest.
    if (f.verdict == Verdict::failed && b.verdict == Verdict::ended && isHeaderFailure(*finch.failure) &&
        walked.endsInHeader) {
        const FinchRun before = runFinch(bytes.substr(0, walked.tailStart), parameters);
        require(before.outcome.verdict == Verdict::ended, "finch failed before the header cut short");
        const std::string completed = std::string(bytes) + completedHeader(walked.tail).substr(walked.tail.size());
        const BeastRun after = runBeast(completed, parameters);
        require(after.outcome.verdict == Verdict::failed, "beast accepts the header finch failed");
        sameFailure(finch, after, std::nullopt);
        return Normalised::headerCutShort;
    }
    violated("different verdicts");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size < 2)
        return 0;
    const Parameters parameters = parametersOf(data[0], data[1]);
    const std::string_view bytes(reinterpret_cast<const char*>(data) + 2, size - 2);

    context = Context{&parameters, bytes, nullptr, nullptr};
    const FinchRun finch = runFinch(bytes, parameters);
    context.finch = &finch.outcome;
    const BeastRun beast = runBeast(bytes, parameters);
    context.beast = &beast.outcome;
    const Normalised normalised = compare(bytes, parameters, finch, beast);
    // DIFFERENTIAL_FUZZER_VERBOSE=1: both outcomes and the normalisation
    // applied, for each input (to read what a seed does).
    static const bool verbose = std::getenv("DIFFERENTIAL_FUZZER_VERBOSE") != nullptr;
    if (verbose) {
        std::fprintf(stderr, "differential_fuzzer: agree (normalised: %s)\n", nameOf(normalised));
        print("finch", finch.outcome);
        print("beast", beast.outcome);
    }
    context = Context{};
    return 0;
}
