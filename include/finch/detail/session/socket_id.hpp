#ifndef FINCH_DETAIL_SESSION_SOCKET_ID_HPP
#define FINCH_DETAIL_SESSION_SOCKET_ID_HPP

#include <array>
#include <cstddef>
#include <random>
#include <string>

#if defined(__linux__)
#include <sys/random.h>
#endif

namespace finch::detail {

// Finch used the client's Sec-WebSocket-Key as the connection id, which a
// client can choose, so it could collide with or take over another session.
// Ours are 128 bits from the kernel's CSPRNG.
inline std::string newSocketId()
{
    std::array<unsigned char, 16> bytes{};
#if defined(__linux__)
    std::size_t filled = 0;
    while (filled < bytes.size()) {
        const auto got = ::getrandom(bytes.data() + filled, bytes.size() - filled, 0);
        if (got <= 0)
            break;
        filled += static_cast<std::size_t>(got);
    }
    if (filled < bytes.size())
#endif
    {
        // std::random_device is the system's non-deterministic source on every
        // platform finch targets; reached on Linux only if getrandom fails.
        std::random_device device;
        for (auto& byte : bytes)
            byte = static_cast<unsigned char>(device());
    }
    static constexpr char digits[] = "0123456789abcdef";
    std::string id(bytes.size() * 2, '0');
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        id[2 * i] = digits[bytes[i] >> 4];
        id[2 * i + 1] = digits[bytes[i] & 0x0f];
    }
    return id;
}

}  // namespace finch::detail

#endif
