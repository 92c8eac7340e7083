#ifndef FINCH_DETAIL_WEBSOCKET_OUT_FRAME_HPP
#define FINCH_DETAIL_WEBSOCKET_OUT_FRAME_HPP

#include <finch/detail/websocket/frame.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace finch::detail {

// Immutable bytes that several write queues may share.
using SharedText = std::shared_ptr<const std::string>;

// One complete frame, ready for the wire: the bytes of `buffer` from
// `offset` on. Server frames are not masked, so the frame of a broadcast is
// the same for every receiver: it is built once, and each queue holds a
// reference, never a copy.
struct OutFrame {
    SharedText buffer;
    std::uint32_t offset = 0;

    std::string_view bytes() const noexcept { return std::string_view(buffer->data() + offset, buffer->size() - offset); }
    std::size_t size() const noexcept { return buffer->size() - offset; }

    // The first byte of a frame holds FIN and the opcode; control opcodes
    // (close, ping, pong) have bit 3 set.
    unsigned char opcodeBits() const noexcept { return static_cast<unsigned char>(bytes()[0]) & 0x0F; }
    bool isControl() const noexcept { return (opcodeBits() & 0x08) != 0; }

    // The frame's payload.
    std::string_view payload() const noexcept { return bytes().substr(headerSize()); }

    // The size of the frame's header (2, 4 or 10 bytes).
    std::size_t headerSize() const noexcept
    {
        const auto length = static_cast<unsigned char>(bytes()[1]) & 0x7F;
        return length < 126 ? 2 : length == 126 ? 4 : 10;
    }
};

// Room for a frame header, to append a payload to.
inline std::string frameBuffer()
{
    return std::string(maxFrameHeader, '\0');
}

// Frames `buffer`, which holds maxFrameHeader bytes of room (frameBuffer())
// followed by the payload: the header is written in front of the payload,
// which is not moved. `compressed`: the payload is permessage-deflate data (RSV1).
inline OutFrame finishFrame(std::string&& buffer, Opcode opcode = Opcode::text, bool compressed = false)
{
    char* const payload = buffer.data() + maxFrameHeader;
    const char* const start = writeFrameHeaderBefore(payload, opcode, buffer.size() - maxFrameHeader, compressed);
    const auto offset = static_cast<std::uint32_t>(start - buffer.data());
    return {std::make_shared<const std::string>(std::move(buffer)), offset};
}

// A frame holding a copy of `payload`.
inline OutFrame dataFrame(Opcode opcode, std::string_view payload)
{
    std::string buffer;
    buffer.reserve(maxFrameHeader + payload.size());
    buffer.append(maxFrameHeader, '\0');
    buffer.append(payload);
    return finishFrame(std::move(buffer), opcode);
}

inline OutFrame controlFrame(Opcode opcode, std::string_view payload)
{
    return {std::make_shared<const std::string>(makeFrame(opcode, payload)), 0};
}

}  // namespace finch::detail

#endif
