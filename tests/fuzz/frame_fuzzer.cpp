// libFuzzer target for the WebSocket frame reader: the first thing that sees
// a client's bytes once the connection is upgraded. The input is split into
// reads at points taken from its first bytes, fed as the connection feeds it
// (unconsumed bytes carried over), and every event is checked against what
// the protocol allows.

#include <finch/detail/websocket/frame.hpp>
#include <finch/detail/websocket/utf8.hpp>

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

    bool onMessage(bool text, std::string_view payload)
    {
        require(!closed);
        require(payload.size() <= maxMessage);
        if (text)
            require(finch::detail::isValidUtf8(payload));
        return true;
    }
    bool onPing(std::string_view payload)
    {
        require(!closed);
        require(payload.size() <= 125);
        return true;
    }
    bool onPong()
    {
        require(!closed);
        return true;
    }
    bool onClose(std::uint16_t code, std::string_view reason)
    {
        require(!closed);
        require(code == 1005 || finch::detail::isValidReceivedCloseCode(code));
        require(reason.size() <= 123 && finch::detail::isValidUtf8(reason));
        closed = true;
        return false;
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size < 2)
        return 0;
    // Byte 0: the largest message (small, so the limit is reached often);
    // byte 1: the size of each read.
    const std::size_t maxMessage = 16 + data[0] * 4u;
    const std::size_t chunk = 1 + data[1] % 64;
    data += 2;
    size -= 2;

    finch::detail::FrameReader reader(maxMessage);
    CheckingSink sink{maxMessage};
    std::string pending;
    for (std::size_t offset = 0; offset < size && !sink.closed; offset += chunk) {
        pending.append(reinterpret_cast<const char*>(data) + offset, std::min(chunk, size - offset));
        finch::detail::FrameReader::Failure failure;
        const std::size_t used = reader.parse(pending.data(), pending.size(), sink, failure);
        require(used <= pending.size());
        if (failure.closeCode != 0) {
            require(failure.closeCode == 1002 || failure.closeCode == 1007 || failure.closeCode == 1009);
            return 0;
        }
        pending.erase(0, used);
        // A partial frame is held only while it can still become a valid one.
        require(reader.bufferedBytes() <= maxMessage + 64 || reader.bufferedBytes() < 4096);
    }
    return 0;
}
