#ifndef FINCH_DETAIL_WEBSOCKET_FRAME_HPP
#define FINCH_DETAIL_WEBSOCKET_FRAME_HPP

#include <finch/detail/websocket/utf8.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace finch::detail {

// RFC 6455 framing, server side: frames from clients are masked and may be
// fragmented; frames to clients are unmasked, and finch never fragments them.
// Both directions work on plain bytes, with no I/O, so that the codec can be
// tested and fuzzed on its own.

enum class Opcode : std::uint8_t { continuation = 0, text = 1, binary = 2, close = 8, ping = 9, pong = 10 };

// Close codes finch sends (RFC 6455 7.4.1).
namespace closeCode {
inline constexpr std::uint16_t normal = 1000;
inline constexpr std::uint16_t goingAway = 1001;
inline constexpr std::uint16_t protocolError = 1002;
inline constexpr std::uint16_t invalidPayload = 1007;
inline constexpr std::uint16_t policyViolation = 1008;
inline constexpr std::uint16_t tooBig = 1009;
inline constexpr std::uint16_t internalError = 1011;
}  // namespace closeCode

inline constexpr std::size_t maxFrameHeader = 10;

// Writes the header of an unmasked, final frame of `payloadSize` bytes so
// that it ends exactly at `end`; returns where it starts. Writing backwards
// lets an encoder reserve maxFrameHeader bytes in front of a payload it has
// not measured yet, and frame it afterwards without moving it.
inline char* writeFrameHeaderBefore(char* end, Opcode opcode, std::uint64_t payloadSize) noexcept
{
    const auto first = static_cast<char>(0x80 | static_cast<std::uint8_t>(opcode));
    if (payloadSize < 126) {
        end[-2] = first;
        end[-1] = static_cast<char>(payloadSize);
        return end - 2;
    }
    if (payloadSize <= 0xFFFF) {
        end[-4] = first;
        end[-3] = 126;
        end[-2] = static_cast<char>(payloadSize >> 8);
        end[-1] = static_cast<char>(payloadSize);
        return end - 4;
    }
    end[-10] = first;
    end[-9] = 127;
    for (int i = 0; i < 8; ++i)
        end[-1 - i] = static_cast<char>(payloadSize >> (8 * i));
    return end - 10;
}

// A whole server frame in one string: header then payload.
inline std::string makeFrame(Opcode opcode, std::string_view payload)
{
    char header[maxFrameHeader];
    const char* const end = header + maxFrameHeader;
    const char* const start = writeFrameHeaderBefore(header + maxFrameHeader, opcode, payload.size());
    const auto headerSize = static_cast<std::size_t>(end - start);
    std::string frame;
    frame.reserve(headerSize + payload.size());
    frame.append(start, headerSize);
    frame.append(payload);
    return frame;
}

// The payload of a close frame: the code in network order, then the reason.
inline std::string closePayload(std::uint16_t code, std::string_view reason)
{
    std::string payload;
    payload += static_cast<char>(code >> 8);
    payload += static_cast<char>(code & 0xFF);
    payload += reason;
    return payload;
}

// Whether a client may send `code` in a close frame (RFC 6455 7.4).
inline bool isValidReceivedCloseCode(std::uint16_t code) noexcept
{
    if (code >= 3000 && code <= 4999)
        return true;
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014);
}

// Reads client frames out of a byte buffer and reassembles fragmented
// messages. The caller reads from the socket into any buffer, hands it to
// parse(), and keeps the bytes parse() did not consume for the next call.
//
// A complete frame's payload is unmasked in place, so an unfragmented
// message reaches the sink as a view into the caller's buffer: no copy.
// Only fragmented messages are gathered in a buffer of the reader's own.
class FrameReader {
public:
    explicit FrameReader(std::size_t maxMessageSize) noexcept
        : maxMessageSize_(maxMessageSize)
    {
    }

    // What stopped parsing.
    struct Failure {
        std::uint16_t closeCode = 0;  // 0: none
        const char* reason = "";
    };

    // Parses the complete frames at the start of [data, data + size). For each
    // one the sink's member runs:
    //   bool onMessage(bool text, std::string_view payload)  (a whole message)
    //   bool onPing(std::string_view payload)
    //   bool onPong()
    //   bool onClose(std::uint16_t code, std::string_view reason)  (code 1005: none given)
    // each returning whether to go on. A protocol violation stops parsing and
    // is returned in `failure` (the close code to send). Returns the number of
    // bytes consumed.
    template <class Sink>
    std::size_t parse(char* data, std::size_t size, Sink& sink, Failure& failure)
    {
        std::size_t consumed = 0;
        while (true) {
            char* const frame = data + consumed;
            const std::size_t available = size - consumed;
            if (available < 2)
                return consumed;
            const auto b0 = static_cast<std::uint8_t>(frame[0]);
            const auto b1 = static_cast<std::uint8_t>(frame[1]);
            const bool fin = (b0 & 0x80) != 0;
            const auto opcode = static_cast<Opcode>(b0 & 0x0F);
            if ((b0 & 0x70) != 0)
                return fail(failure, closeCode::protocolError, "reserved bits set without an extension", consumed);
            if ((b1 & 0x80) == 0)
                return fail(failure, closeCode::protocolError, "client frames must be masked", consumed);
            std::uint64_t length = b1 & 0x7F;
            std::size_t headerSize = 2;
            if (length == 126) {
                if (available < 4)
                    return consumed;
                length = std::uint64_t(static_cast<std::uint8_t>(frame[2])) << 8 | static_cast<std::uint8_t>(frame[3]);
                headerSize = 4;
            } else if (length == 127) {
                if (available < 10)
                    return consumed;
                length = 0;
                for (int i = 0; i < 8; ++i)
                    length = length << 8 | static_cast<std::uint8_t>(frame[2 + i]);
                if (length >> 63)
                    return fail(failure, closeCode::protocolError, "frame length out of range", consumed);
                headerSize = 10;
            }
            const bool control = (static_cast<std::uint8_t>(opcode) & 0x08) != 0;
            if (control) {
                if (opcode != Opcode::close && opcode != Opcode::ping && opcode != Opcode::pong)
                    return fail(failure, closeCode::protocolError, "unknown control opcode", consumed);
                if (!fin || length > 125)
                    return fail(failure, closeCode::protocolError, "control frames must be whole and short", consumed);
            } else {
                if (opcode != Opcode::continuation && opcode != Opcode::text && opcode != Opcode::binary)
                    return fail(failure, closeCode::protocolError, "unknown data opcode", consumed);
                if ((opcode == Opcode::continuation) != fragmenting_)
                    return fail(failure, closeCode::protocolError,
                        fragmenting_ ? "a new message began inside a fragmented one" : "continuation without a message",
                        consumed);
                // Checked before the payload arrives, so it is never buffered.
                if (length > maxMessageSize_ || fragments_.size() + length > maxMessageSize_)
                    return fail(failure, closeCode::tooBig, "message too big", consumed);
            }
            headerSize += 4;  // the mask
            if (available < headerSize || available - headerSize < length)
                return consumed;

            char* const payload = frame + headerSize;
            const auto size64 = static_cast<std::size_t>(length);
            unmask(payload, size64, frame + headerSize - 4);
            consumed += headerSize + size64;
            const std::string_view bytes(payload, size64);

            bool goOn = true;
            switch (opcode) {
            case Opcode::ping:
                goOn = sink.onPing(bytes);
                break;
            case Opcode::pong:
                goOn = sink.onPong();
                break;
            case Opcode::close: {
                std::uint16_t code = 1005;
                std::string_view reason;
                if (size64 == 1)
                    return fail(failure, closeCode::protocolError, "close frame with a one-byte payload", consumed);
                if (size64 >= 2) {
                    code = static_cast<std::uint16_t>(static_cast<std::uint8_t>(payload[0]) << 8 |
                        static_cast<std::uint8_t>(payload[1]));
                    reason = bytes.substr(2);
                    if (!isValidReceivedCloseCode(code))
                        return fail(failure, closeCode::protocolError, "invalid close code", consumed);
                    if (!isValidUtf8(reason))
                        return fail(failure, closeCode::invalidPayload, "close reason is not UTF-8", consumed);
                }
                sink.onClose(code, reason);
                return consumed;  // nothing after a close frame counts
            }
            case Opcode::text:
            case Opcode::binary:
                if (fin) {
                    if (opcode == Opcode::text && !isValidUtf8(bytes))
                        return fail(failure, closeCode::invalidPayload, "text message is not UTF-8", consumed);
                    goOn = sink.onMessage(opcode == Opcode::text, bytes);
                } else {
                    fragmenting_ = true;
                    fragmentedText_ = opcode == Opcode::text;
                    fragments_.assign(bytes);
                }
                break;
            case Opcode::continuation:
                fragments_.append(bytes);
                if (fin) {
                    fragmenting_ = false;
                    std::string message;
                    message.swap(fragments_);
                    if (fragmentedText_ && !isValidUtf8(message))
                        return fail(failure, closeCode::invalidPayload, "text message is not UTF-8", consumed);
                    goOn = sink.onMessage(fragmentedText_, message);
                }
                break;
            }
            if (!goOn)
                return consumed;
        }
    }

    // Bytes held for a fragmented message in progress.
    std::size_t bufferedBytes() const noexcept { return fragments_.capacity(); }

private:
    static std::size_t fail(Failure& failure, std::uint16_t code, const char* reason, std::size_t consumed) noexcept
    {
        failure.closeCode = code;
        failure.reason = reason;
        return consumed;
    }

    // XOR with the 4-byte mask, eight bytes at a time where possible.
    static void unmask(char* data, std::size_t size, const char* maskBytes) noexcept
    {
        unsigned char mask[4];
        std::memcpy(mask, maskBytes, 4);
        std::uint64_t mask64;
        unsigned char wide[8] = {mask[0], mask[1], mask[2], mask[3], mask[0], mask[1], mask[2], mask[3]};
        std::memcpy(&mask64, wide, 8);
        std::size_t i = 0;
        for (; i + 8 <= size; i += 8) {
            std::uint64_t chunk;
            std::memcpy(&chunk, data + i, 8);
            chunk ^= mask64;
            std::memcpy(data + i, &chunk, 8);
        }
        for (; i < size; ++i)
            data[i] = static_cast<char>(data[i] ^ mask[i % 4]);
    }

    std::size_t maxMessageSize_;
    std::string fragments_;
    bool fragmenting_ = false;
    bool fragmentedText_ = false;
};

}  // namespace finch::detail

#endif
