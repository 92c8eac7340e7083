#ifndef FINCH_DETAIL_DEFLATE_DEFLATED_FRAMES_HPP
#define FINCH_DETAIL_DEFLATE_DEFLATED_FRAMES_HPP

#include <finch/compression.hpp>
#include <finch/detail/websocket/frame.hpp>
#include <finch/detail/websocket/out_frame.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <utility>

namespace finch::detail {

// The permessage-deflate form of a plain data frame, compressed with a fresh
// context and a window of `1 << windowBits` bytes; nothing when compression
// failed or would not make it shorter (the plain frame then goes: RFC 7692
// lets every message choose).
inline std::optional<OutFrame> deflateFrame(const OutFrame& plain, const Compression& codec, int windowBits)
{
    const std::string_view payload = plain.payload();
    std::string bytes = frameBuffer();
    bytes.reserve(maxFrameHeader + payload.size() / 2 + 64);
    if (!codec.compress(payload, windowBits, bytes) || bytes.size() - maxFrameHeader >= payload.size())
        return std::nullopt;
    return finishFrame(std::move(bytes), static_cast<Opcode>(plain.opcodeBits()), true);
}

// What receivers that negotiated permessage-deflate get of one shared plain
// frame (a broadcast's): since the server never keeps its context, the
// compressed frame is the same for all of them, so it is made once, by the
// first such receiver, and shared like the plain one. One per server window
// size in use: clients that asked for a smaller window than the others get
// theirs (browsers never ask, so that is almost always one frame).
// Not thread-safe: it belongs to one broadcast, on the thread that sends it.
class DeflatedFrames {
public:
    DeflatedFrames(const OutFrame& plain, const Compression* codec) noexcept
        : plain_(plain)
        , codec_(codec)
    {
    }

    DeflatedFrames(const DeflatedFrames&) = delete;
    DeflatedFrames& operator=(const DeflatedFrames&) = delete;

    const OutFrame& plain() const noexcept { return plain_; }

    // The frame for a receiver that compresses with `windowBits` (9 to 15).
    const OutFrame& forWindow(int windowBits)
    {
        Slot& slot = slots_[static_cast<std::size_t>(windowBits - 9) % 7];
        if (!slot.made) {
            slot.made = true;
            slot.frame = deflateFrame(plain_, *codec_, windowBits);
        }
        return slot.frame ? *slot.frame : plain_;
    }

private:
    struct Slot {
        bool made = false;
        std::optional<OutFrame> frame;  // empty when compressing did not pay
    };
    const OutFrame& plain_;
    const Compression* codec_;
    Slot slots_[7];
};

}  // namespace finch::detail

#endif
