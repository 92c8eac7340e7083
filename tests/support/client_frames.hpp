#ifndef FINCH_TESTS_SUPPORT_CLIENT_FRAMES_HPP
#define FINCH_TESTS_SUPPORT_CLIENT_FRAMES_HPP

// Test support: frames as a client writes them (masked), including the ones
// a client must not write (a reserved bit, no mask, a longer length field
// than needed), to feed finch's frame parser and stream.

#include <cstdint>
#include <string>
#include <vector>

namespace finch::test {

// The header's length field: the shortest that fits, or a longer one
// (RFC 6455 forbids it; the parser must refuse it).
enum class LengthField { shortest, sixteenBits, sixtyFourBits };

struct FrameSpec {
    std::uint8_t opcode = 1;
    bool fin = true;
    std::uint8_t reservedBits = 0;  // 0x40, 0x20, 0x10
    bool masked = true;
    LengthField length = LengthField::shortest;
};

inline std::string clientFrame(const FrameSpec& spec, const std::string& payload)
{
    std::string frame;
    frame += static_cast<char>((spec.fin ? 0x80 : 0) | spec.reservedBits | spec.opcode);
    const char maskBit = spec.masked ? static_cast<char>(0x80) : 0;
    const std::uint64_t size = payload.size();
    if (spec.length == LengthField::shortest && size < 126) {
        frame += static_cast<char>(maskBit | static_cast<char>(size));
    } else if (spec.length != LengthField::sixtyFourBits && size <= 0xFFFF) {
        frame += static_cast<char>(maskBit | 126);
        frame += static_cast<char>(size >> 8);
        frame += static_cast<char>(size & 0xFF);
    } else {
        frame += static_cast<char>(maskBit | 127);
        for (int i = 7; i >= 0; --i)
            frame += static_cast<char>((size >> (8 * i)) & 0xFF);
    }
    if (!spec.masked)
        return frame + payload;
    const unsigned char mask[4] = {0xA1, 0x07, 0x3C, 0xF0};
    for (unsigned char byte : mask)
        frame += static_cast<char>(byte);
    for (std::size_t i = 0; i < payload.size(); ++i)
        frame += static_cast<char>(static_cast<unsigned char>(payload[i]) ^ mask[i % 4]);
    return frame;
}

inline std::string clientFrame(std::uint8_t opcode, const std::string& payload, bool fin = true)
{
    FrameSpec spec;
    spec.opcode = opcode;
    spec.fin = fin;
    return clientFrame(spec, payload);
}

inline std::string textFrame(const std::string& payload, bool fin = true)
{
    return clientFrame(1, payload, fin);
}
inline std::string binaryFrame(const std::string& payload, bool fin = true)
{
    return clientFrame(2, payload, fin);
}
inline std::string continuationFrame(const std::string& payload, bool fin = true)
{
    return clientFrame(0, payload, fin);
}
inline std::string pingFrame(const std::string& payload = {})
{
    return clientFrame(9, payload);
}
inline std::string pongFrame(const std::string& payload = {})
{
    return clientFrame(10, payload);
}

// A close frame with `code` (none when 0) and `reason`.
inline std::string closeFrame(std::uint16_t code = 1000, const std::string& reason = {})
{
    std::string payload;
    if (code != 0) {
        payload += static_cast<char>(code >> 8);
        payload += static_cast<char>(code & 0xFF);
        payload += reason;
    }
    return clientFrame(8, payload);
}

// A frame as a server sent it (unmasked), decoded by the test.
struct ServerFrame {
    std::uint8_t opcode = 0;
    bool fin = true;
    std::string payload;

    // For close frames: the code (0 when none), and the reason.
    std::uint16_t closeCode() const
    {
        return payload.size() < 2 ? 0
                                  : static_cast<std::uint16_t>(static_cast<unsigned char>(payload[0]) << 8 |
                                        static_cast<unsigned char>(payload[1]));
    }
    std::string closeReason() const { return payload.size() < 2 ? std::string() : payload.substr(2); }

    // "text:hello", "binary:...", "ping:", "pong:x", "close:1000:reason".
    std::string describe() const
    {
        switch (opcode) {
        case 1:
            return "text:" + payload;
        case 2:
            return "binary:" + payload;
        case 8:
            return "close:" + std::to_string(closeCode()) + ":" + closeReason();
        case 9:
            return "ping:" + payload;
        case 10:
            return "pong:" + payload;
        default:
            return "opcode" + std::to_string(opcode) + ":" + payload;
        }
    }
};

// Takes the complete server frames off the front of `bytes`; a frame that
// has not fully arrived stays there.
inline std::vector<ServerFrame> takeServerFrames(std::string& bytes)
{
    std::vector<ServerFrame> frames;
    std::size_t offset = 0;
    while (bytes.size() - offset >= 2) {
        const auto b0 = static_cast<unsigned char>(bytes[offset]);
        const auto b1 = static_cast<unsigned char>(bytes[offset + 1]);
        std::uint64_t length = b1 & 0x7F;
        std::size_t header = 2;
        if (length == 126) {
            if (bytes.size() - offset < 4)
                break;
            length = static_cast<std::uint64_t>(static_cast<unsigned char>(bytes[offset + 2])) << 8 |
                static_cast<unsigned char>(bytes[offset + 3]);
            header = 4;
        } else if (length == 127) {
            if (bytes.size() - offset < 10)
                break;
            length = 0;
            for (int i = 0; i < 8; ++i)
                length = length << 8 | static_cast<unsigned char>(bytes[offset + 2 + static_cast<std::size_t>(i)]);
            header = 10;
        }
        if (bytes.size() - offset - header < length)
            break;
        ServerFrame frame;
        frame.opcode = b0 & 0x0F;
        frame.fin = (b0 & 0x80) != 0;
        frame.payload = bytes.substr(offset + header, static_cast<std::size_t>(length));
        frames.push_back(std::move(frame));
        offset += header + static_cast<std::size_t>(length);
    }
    bytes.erase(0, offset);
    return frames;
}

}  // namespace finch::test

#endif
