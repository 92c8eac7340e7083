// libFuzzer target for the WebSocket frame parser: the first thing that sees
// a client's bytes once the connection is upgraded. The input is split into
// reads at points taken from its first bytes and fed as the stream feeds it
// (into the parser's room when it offers one), and every event is checked
// against what the protocol allows. Half of the inputs are parsed with
// permessage-deflate negotiated, so that compressed messages (RSV1) are
// inflated by zlib under the size limit.

#include <finch/detail/websocket/frame_parser.hpp>

#include <finch/detail/websocket/close.hpp>
#include <finch/detail/websocket/utf8.hpp>
#include <finch/permessage_deflate.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

void require(bool condition)
{
    if (!condition)
        __builtin_trap();
}

struct CheckingSink {
    std::size_t maxMessage;
    bool closed = false;

    void onMessage(finch::MessageKind kind, std::string_view payload)
    {
        require(!closed);
        require(payload.size() <= maxMessage);
        if (kind == finch::MessageKind::text)
            require(finch::detail::isValidUtf8(payload));
    }
    void onPing(std::string_view payload)
    {
        require(!closed);
        require(payload.size() <= 125);
    }
    void onPong(std::string_view payload)
    {
        require(!closed);
        require(payload.size() <= 125);
    }
    void onClose(std::uint16_t code, std::string_view reason)
    {
        require(!closed);
        require(code == 1005 || finch::detail::isValidCloseCode(code));
        require(reason.size() <= 123 && finch::detail::isValidUtf8(reason));
        closed = true;
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size < 2)
        return 0;
    // Byte 0: the largest message (small, so the limits are reached often);
    // byte 1: the size of each read, and in its top bit whether
    // permessage-deflate was negotiated (the client resets its context, or,
    // with bit 6, keeps it).
    const std::size_t maxMessage = 16 + data[0] * 4u;
    const std::size_t chunk = 1 + data[1] % 64;
    const bool inflate = (data[1] & 0x80) != 0;
    const bool clientTakeover = (data[1] & 0x40) != 0;
    static const auto codec = finch::permessageDeflate();
    data += 2;
    size -= 2;

    // A budget a little above one message: fragmented messages reach it too.
    finch::detail::IncomingBudget budget(maxMessage + 200);
    {
        finch::detail::FrameParser parser(maxMessage, &budget);
        if (inflate)
            parser.enableInflation(*codec, maxMessage, clientTakeover, 9);
        CheckingSink sink{maxMessage};
        std::string piece;
        std::size_t offset = 0;
        while (offset < size) {
            std::size_t take = std::min(chunk, size - offset);
            const finch::detail::FrameParser::Room room = parser.room();
            finch::detail::ParseStatus status;
            if (room.data) {
                take = std::min(take, room.size);
                std::copy(data + offset, data + offset + take, room.data);
                status = parser.feedRoom(take, sink);
            } else {
                piece.assign(reinterpret_cast<const char*>(data) + offset, take);
                status = parser.feed(piece.data(), piece.size(), sink);
            }
            offset += take;
            if (status == finch::detail::ParseStatus::failed) {
                const unsigned short code = finch::closeCodeOf(parser.failure());
                require(code == 1002 || code == 1007 || code == 1009 || code == 1013);
                break;
            }
            if (status == finch::detail::ParseStatus::closed) {
                require(sink.closed);
                break;
            }
            // A message is held only while it can still become a valid one.
            require(parser.bufferedBytes() <= budget.limit());
        }
    }
    // Every byte of room taken from the budget went back.
    require(budget.used() == 0);
    return 0;
}
