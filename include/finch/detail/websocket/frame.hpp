#ifndef FINCH_DETAIL_WEBSOCKET_FRAME_HPP
#define FINCH_DETAIL_WEBSOCKET_FRAME_HPP

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace finch::detail {

// RFC 6455 framing, server side: frames from clients are masked and may be
// fragmented (frame_parser.hpp reads them); frames to clients are unmasked,
// and finch never fragments them. This file holds what both directions
// share and the writing side, on plain bytes, with no I/O.

enum class Opcode : std::uint8_t { continuation = 0, text = 1, binary = 2, close = 8, ping = 9, pong = 10 };

constexpr bool isControl(Opcode opcode) noexcept
{
    return (static_cast<std::uint8_t>(opcode) & 0x08) != 0;
}

// The longest header of a server frame (2 bytes, then 8 of length); a
// client's adds 4 bytes of mask.
inline constexpr std::size_t maxFrameHeader = 10;

// Writes the header of an unmasked, final frame of `payloadSize` bytes so
// that it ends exactly at `end`; returns where it starts. `compressed` sets
// RSV1, which marks a permessage-deflate message (RFC 7692 6). Writing backwards
// lets an encoder reserve maxFrameHeader bytes in front of a payload it has
// not measured yet, and frame it afterwards without moving it.
inline char* writeFrameHeaderBefore(
    char* end, Opcode opcode, std::uint64_t payloadSize, bool compressed = false) noexcept
{
    const auto first = static_cast<char>(0x80 | (compressed ? 0x40 : 0) | static_cast<std::uint8_t>(opcode));
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

}  // namespace finch::detail

#endif
