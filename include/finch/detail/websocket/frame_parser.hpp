#ifndef FINCH_DETAIL_WEBSOCKET_FRAME_PARSER_HPP
#define FINCH_DETAIL_WEBSOCKET_FRAME_PARSER_HPP

#include <finch/compression.hpp>
#include <finch/detail/deflate/inflate_buffer.hpp>
#include <finch/detail/websocket/close.hpp>
#include <finch/detail/websocket/frame.hpp>
#include <finch/detail/websocket/incoming_budget.hpp>
#include <finch/detail/websocket/message_buffer.hpp>
#include <finch/detail/websocket/utf8.hpp>
#include <finch/error.hpp>
#include <finch/message_kind.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

namespace finch::detail {

// What feeding bytes to a FrameParser came to.
enum class ParseStatus : unsigned char {
    more,  // every byte was taken; more are welcome
    closed,  // a close frame arrived: nothing after it counts
    failed,  // the client broke the protocol: see FrameParser::failure()
};

// Reads client frames (RFC 6455 5) out of the bytes of a connection, in
// pieces of any size, and hands whole messages and control frames to a sink.
// No I/O: the caller reads, and feeds what it read.
//
// Every byte is looked at once, when it arrives: headers are checked as soon
// as they are there (a reserved bit fails the connection before the rest of
// the header is read), payloads are unmasked and text is checked for UTF-8
// piece by piece, so an invalid byte fails the connection at once, even in
// the middle of a frame or of a fragmented message.
//
// Memory and copies: a frame that arrived whole within one read is unmasked
// in place and reaches the sink as a view into the caller's buffer, with no
// copy. A frame cut between reads gets room for its whole payload as soon as
// its header is known (bounded by maxMessageSize, and taken from the
// manager's IncomingBudget); room() tells the caller to read the rest
// straight into it, so its bytes are copied at most once, and reading a
// message costs time linear in its size. The fragments of a message are put
// together in the same buffer. An idle connection's parser holds no memory.
//
// The sink has, each called on the strand that feeds:
//   void onMessage(MessageKind kind, std::string_view payload)
//   void onPing(std::string_view payload)
//   void onPong(std::string_view payload)
//   void onClose(std::uint16_t code, std::string_view reason)  (code 1005: none given)
// A view is valid until the call returns.
//
// With permessage-deflate (enableInflation()), a message whose first frame
// has RSV1 set is inflated once it is whole, and the sink gets the inflated
// bytes: the size limit then applies to them too, and inflating stops as
// soon as it is crossed; a text message's UTF-8 is checked after inflating.
class FrameParser {
public:
    // `maxMessageSize` 0 means no limit but the budget's; `budget` may be null.
    FrameParser(std::size_t maxMessageSize, IncomingBudget* budget) noexcept
        : message_(budget)
        , maxMessageSize_(maxMessageSize)
    {
    }

    // Where the next read should put its bytes: the room reserved for the
    // payload being received, when much of it is still to come; null (read
    // into a buffer of the caller's and feed() it) otherwise. Never more than
    // the rest of the current frame, so the room holds nothing but payload.
    struct Room {
        char* data = nullptr;
        std::size_t size = 0;
    };
    Room room() noexcept
    {
        if (!inPayload_ || isControl(opcode_) || remaining_ < roomThreshold)
            return {};
        return {message_.end(), static_cast<std::size_t>(remaining_)};
    }

    // Parses the `size` bytes at `data`, which it may change (payloads are
    // unmasked in place). Takes every byte, keeping those of a frame that is
    // not complete, unless it stops at a close frame or a failure.
    template <class Sink>
    ParseStatus feed(char* data, std::size_t size, Sink& sink)
    {
        char* p = data;
        char* const end = data + size;
        while (p < end) {
            if (inPayload_) {
                const auto count = static_cast<std::size_t>(remaining_ < static_cast<std::uint64_t>(end - p)
                        ? remaining_
                        : static_cast<std::uint64_t>(end - p));
                if (!takePayload(p, count))
                    return ParseStatus::failed;
                p += count;
                if (remaining_ == 0)
                    if (const auto status = completeFrame(sink); status != ParseStatus::more)
                        return status;
                continue;
            }
            std::size_t used = 0;
            Header header = Header::needMore;
            if (headerHave_ == 0) {
                header =
                    parseHeader(reinterpret_cast<const unsigned char*>(p), static_cast<std::size_t>(end - p), used);
                if (header == Header::needMore) {
                    std::memcpy(header_, p, static_cast<std::size_t>(end - p));
                    headerHave_ = static_cast<unsigned char>(end - p);
                    return ParseStatus::more;
                }
            } else {
                // A header cut between reads: add what is here and try again.
                const std::size_t take = static_cast<std::size_t>(end - p) < sizeof(header_) - headerHave_
                    ? static_cast<std::size_t>(end - p)
                    : sizeof(header_) - headerHave_;
                std::memcpy(header_ + headerHave_, p, take);
                std::size_t headerSize = 0;
                header = parseHeader(header_, headerHave_ + take, headerSize);
                if (header == Header::needMore) {
                    headerHave_ = static_cast<unsigned char>(headerHave_ + take);
                    return ParseStatus::more;
                }
                used = headerSize - headerHave_;  // of this piece's bytes
                headerHave_ = 0;
            }
            if (header == Header::failed)
                return ParseStatus::failed;
            p += used;
            if (canDeliverInPlace() && remaining_ <= static_cast<std::uint64_t>(end - p)) {
                const auto count = static_cast<std::size_t>(remaining_);
                const auto status = deliverInPlace(p, count, sink);
                p += count;
                if (status != ParseStatus::more)
                    return status;
                continue;
            }
            if (!beginPayload())
                return ParseStatus::failed;
            if (remaining_ == 0)
                if (const auto status = completeFrame(sink); status != ParseStatus::more)
                    return status;
        }
        return ParseStatus::more;
    }

    // Parses `size` bytes that the caller read into room().
    // Precondition: size <= room().size.
    template <class Sink>
    ParseStatus feedRoom(std::size_t size, Sink& sink)
    {
        if (!takePayload(message_.end(), size))
            return ParseStatus::failed;
        if (remaining_ == 0)
            return completeFrame(sink);
        return ParseStatus::more;
    }

    // From now on, messages may come compressed (RSV1), and are inflated by
    // `codec` before they reach the sink, up to `limit` bytes (0: no limit).
    // `clientTakeover`: the client keeps its context between messages, with
    // a window of `1 << windowBits` bytes, which this parser then keeps.
    void enableInflation(const Compression& codec, std::size_t limit, bool clientTakeover, int windowBits)
    {
        inflation_ = std::make_unique<Inflation>(Inflation{&codec, limit, windowBits, clientTakeover, {}});
    }

    // Why the last feed failed; the close code is closeCodeOf(failure()).
    ErrorCode failure() const noexcept { return failure_; }

    // Memory held for a message that has not fully arrived.
    std::size_t bufferedBytes() const noexcept { return message_.capacity(); }

    // Gives the memory of a message in progress back (the connection ended).
    void releaseMemory() noexcept { message_.release(); }

private:
    enum class Header : unsigned char { needMore, complete, failed };

    // Reading a large payload straight into its room saves a copy, but a
    // read that stops at a frame's end also costs a system call of its own;
    // below this much, reading into the shared buffer is cheaper.
    static constexpr std::uint64_t roomThreshold = 16 * 1024;

    // Checks the header at `h` (the first `available` bytes of a frame),
    // failing at the first byte that breaks a rule. On success sets up the
    // frame and tells how long the header was.
    Header parseHeader(const unsigned char* h, std::size_t available, std::size_t& headerSize) noexcept
    {
        if (available < 1)
            return Header::needMore;
        const std::uint8_t b0 = h[0];
        const bool fin = (b0 & 0x80) != 0;
        const std::uint8_t code = b0 & 0x0F;
        const std::uint8_t reserved = b0 & 0x70;
        // RSV1 marks a compressed message, on its first frame only (RFC 7692 6.1).
        if (reserved != 0 && (reserved != 0x40 || !inflation_ || (code != 1 && code != 2)))
            return fail(ErrorCode::reservedBits);
        if (code > 10 || (code > 2 && code < 8))
            return fail(ErrorCode::unknownOpcode);
        const auto opcode = static_cast<Opcode>(code);
        const bool control = isControl(opcode);
        if (control) {
            if (!fin)
                return fail(ErrorCode::fragmentedControlFrame);
        } else if (opcode == Opcode::continuation) {
            if (!fragmenting_)
                return fail(ErrorCode::unexpectedContinuation);
        } else if (fragmenting_) {
            return fail(ErrorCode::unfinishedMessage);
        }
        if (available < 2)
            return Header::needMore;
        const std::uint8_t b1 = h[1];
        if ((b1 & 0x80) == 0)
            return fail(ErrorCode::unmaskedFrame);
        std::uint64_t length = b1 & 0x7F;
        if (control && length > 125)
            return fail(ErrorCode::controlFrameTooLong);
        std::size_t position = 2;
        if (length == 126) {
            if (available < 4)
                return Header::needMore;
            length = std::uint64_t(h[2]) << 8 | h[3];
            if (length < 126)
                return fail(ErrorCode::nonMinimalLength);
            position = 4;
        } else if (length == 127) {
            if (available < 10)
                return Header::needMore;
            length = 0;
            for (int i = 0; i < 8; ++i)
                length = length << 8 | h[2 + i];
            if (length >> 63)
                return fail(ErrorCode::lengthOutOfRange);
            if (length <= 0xFFFF)
                return fail(ErrorCode::nonMinimalLength);
            position = 10;
        }
        // From the header, before any of the payload is read or stored.
        if (!control && maxMessageSize_ != 0 &&
            (length > maxMessageSize_ || message_.size() > maxMessageSize_ - length))
            return fail(ErrorCode::messageTooBig);
        if (available < position + 4)
            return Header::needMore;
        std::memcpy(mask_, h + position, 4);
        headerSize = position + 4;
        opcode_ = opcode;
        fin_ = fin;
        remaining_ = length;
        maskPhase_ = 0;
        if (opcode == Opcode::text || opcode == Opcode::binary) {
            messageText_ = opcode == Opcode::text;
            messageCompressed_ = reserved != 0;
            utf8_.reset();
            fragmenting_ = !fin;
        }
        return Header::complete;
    }

    // A control frame, or a message in one frame, can be handed over where
    // it lies; a fragment must join the others.
    bool canDeliverInPlace() const noexcept { return isControl(opcode_) || (fin_ && opcode_ != Opcode::continuation); }

    template <class Sink>
    ParseStatus deliverInPlace(char* payload, std::size_t size, Sink& sink)
    {
        unmask(payload, size, 0);
        const std::string_view bytes(payload, size);
        if (isControl(opcode_))
            return control(bytes, sink);
        if (messageText_ && !messageCompressed_ && !isValidUtf8(bytes))
            return failStatus(ErrorCode::invalidUtf8);
        return deliver(bytes, sink);
    }

    // A whole message, its UTF-8 checked unless it is compressed.
    template <class Sink>
    ParseStatus deliver(std::string_view bytes, Sink& sink)
    {
        const MessageKind kind = messageText_ ? MessageKind::text : MessageKind::binary;
        if (!messageCompressed_) {
            sink.onMessage(kind, bytes);
            return ParseStatus::more;
        }
        // Inflated into this thread's buffer (InflateBuffer): the sink has it
        // only for the call, and no connection keeps inflated bytes between
        // messages.
        InflateBuffer buffer;
        std::string& inflated = buffer.text();
        Inflation& in = *inflation_;
        const InflateResult result =
            in.codec->inflate(bytes, in.limit, inflated, in.clientTakeover ? &in.window : nullptr, in.windowBits);
        if (result == InflateResult::tooBig)
            return failStatus(ErrorCode::messageTooBig);
        if (result != InflateResult::ok)
            return failStatus(ErrorCode::invalidCompressedData);
        if (messageText_ && !isValidUtf8(inflated))
            return failStatus(ErrorCode::invalidUtf8);
        sink.onMessage(kind, inflated);
        return ParseStatus::more;
    }

    // Makes room for the payload of the frame whose header was just read.
    bool beginPayload() noexcept
    {
        if (isControl(opcode_))
            controlStart_ = message_.size();  // behind a fragmented message's bytes, if any
        if (!message_.reserveMore(static_cast<std::size_t>(remaining_), isControl(opcode_) ? 0 : maxMessageSize_)) {
            failure_ = ErrorCode::incomingMemoryFull;
            return false;
        }
        inPayload_ = true;
        return true;
    }

    // `count` payload bytes of the current frame at `bytes`, which is either
    // the caller's buffer or the message's room.
    bool takePayload(char* bytes, std::size_t count) noexcept
    {
        unmask(bytes, count, maskPhase_);
        maskPhase_ = static_cast<unsigned char>((maskPhase_ + count) & 3);
        if (!isControl(opcode_) && messageText_ && !messageCompressed_ && !utf8_.feed(std::string_view(bytes, count))) {
            failure_ = ErrorCode::invalidUtf8;
            return false;
        }
        if (bytes == message_.end())
            message_.commit(count);
        else
            message_.append(bytes, count);
        remaining_ -= count;
        return true;
    }

    template <class Sink>
    ParseStatus completeFrame(Sink& sink)
    {
        inPayload_ = false;
        if (isControl(opcode_)) {
            const auto status = control(message_.view().substr(controlStart_), sink);
            if (controlStart_ == 0)
                message_.release();
            else
                message_.truncate(controlStart_);
            return status;
        }
        if (!fin_)
            return ParseStatus::more;
        if (messageText_ && !messageCompressed_ && !utf8_.complete())
            return failStatus(ErrorCode::invalidUtf8);
        fragmenting_ = false;
        const ParseStatus status = deliver(message_.view(), sink);
        // An idle connection keeps no message memory; the next large message
        // reserves again.
        message_.release();
        return status;
    }

    template <class Sink>
    ParseStatus control(std::string_view payload, Sink& sink)
    {
        switch (opcode_) {
        case Opcode::ping:
            sink.onPing(payload);
            return ParseStatus::more;
        case Opcode::pong:
            sink.onPong(payload);
            return ParseStatus::more;
        default:
            break;
        }
        std::uint16_t code = closeCode::noStatus;
        std::string_view reason;
        if (payload.size() == 1)
            return failStatus(ErrorCode::invalidClosePayload);
        if (payload.size() >= 2) {
            code = static_cast<std::uint16_t>(
                static_cast<std::uint8_t>(payload[0]) << 8 | static_cast<std::uint8_t>(payload[1]));
            reason = payload.substr(2);
            if (!isValidCloseCode(code))
                return failStatus(ErrorCode::invalidCloseCode);
            if (!isValidUtf8(reason))
                return failStatus(ErrorCode::invalidCloseReason);
        }
        sink.onClose(code, reason);
        return ParseStatus::closed;
    }

    Header fail(ErrorCode reason) noexcept
    {
        failure_ = reason;
        return Header::failed;
    }

    ParseStatus failStatus(ErrorCode reason) noexcept
    {
        failure_ = reason;
        return ParseStatus::failed;
    }

    // XOR with the mask, starting `phase` bytes into it; eight bytes at a
    // time where possible.
    void unmask(char* data, std::size_t size, unsigned phase) const noexcept
    {
        unsigned char mask[4];
        for (unsigned i = 0; i < 4; ++i)
            mask[i] = mask_[(phase + i) & 3];
        const unsigned char wide[8] = {mask[0], mask[1], mask[2], mask[3], mask[0], mask[1], mask[2], mask[3]};
        std::uint64_t mask64;
        std::memcpy(&mask64, wide, 8);
        std::size_t i = 0;
        for (; i + 8 <= size; i += 8) {
            std::uint64_t chunk;
            std::memcpy(&chunk, data + i, 8);
            chunk ^= mask64;
            std::memcpy(data + i, &chunk, 8);
        }
        for (; i < size; ++i)
            data[i] = static_cast<char>(data[i] ^ mask[i & 3]);
    }

    // permessage-deflate's incoming side; null unless it was negotiated.
    struct Inflation {
        const Compression* codec;
        std::size_t limit;
        int windowBits;
        bool clientTakeover;
        std::string window;  // the client's history, when it keeps its context
    };

    MessageBuffer message_;
    std::unique_ptr<Inflation> inflation_;
    std::size_t maxMessageSize_;
    std::uint64_t remaining_ = 0;  // payload bytes of the current frame still to come
    std::size_t controlStart_ = 0;  // where a control frame's payload starts in message_
    unsigned char mask_[4] = {};
    unsigned char header_[14] = {};  // a header cut between reads
    unsigned char headerHave_ = 0;
    unsigned char maskPhase_ = 0;
    Utf8Validator utf8_;  // of the text message being received
    Opcode opcode_ = Opcode::continuation;
    ErrorCode failure_{};
    bool fin_ = false;
    bool inPayload_ = false;
    bool fragmenting_ = false;  // a message's first frame came without FIN
    bool messageText_ = false;
    bool messageCompressed_ = false;  // the message came with RSV1: inflate it whole
};

}  // namespace finch::detail

#endif
