#ifndef FINCH_PERMESSAGE_DEFLATE_HPP
#define FINCH_PERMESSAGE_DEFLATE_HPP

// permessage-deflate needs zlib: link the CMake target finch::compression
// (or -lz), which only this header requires.
#include <finch/compression.hpp>
#include <finch/detail/deflate/zlib_compression.hpp>

#include <memory>
#include <stdexcept>

namespace finch {

/// permessage-deflate (RFC 7692) on zlib, for `Options::compression`:
///
/// @code
/// #include <finch/permessage_deflate.hpp>   // link finch::compression
///
/// finch::Options options;
/// options.compression = finch::permessageDeflate();   // messages of 1 KiB and more
/// @endcode
///
/// The settings (`PerMessageDeflate`) say how much is compressed and at
/// what memory; `docs/compression.md` says what it costs and saves.
///
/// @par Errors
/// Throws `std::invalid_argument` when a setting is out of its range
/// (`level` and `memLevel` 1 to 9, `serverMaxWindowBits` 9 to 15).
///
/// @par Thread Safety
/// Safe from any thread. One codec may serve several managers.
inline std::shared_ptr<const Compression> permessageDeflate(const PerMessageDeflate& settings = {})
{
    if (settings.level < 1 || settings.level > 9)
        throw std::invalid_argument("finch::PerMessageDeflate::level must be 1 to 9");
    if (settings.memLevel < 1 || settings.memLevel > 9)
        throw std::invalid_argument("finch::PerMessageDeflate::memLevel must be 1 to 9");
    if (settings.serverMaxWindowBits < 9 || settings.serverMaxWindowBits > 15)
        throw std::invalid_argument("finch::PerMessageDeflate::serverMaxWindowBits must be 9 to 15");
    return std::make_shared<detail::ZlibCompression>(settings);
}

}  // namespace finch

#endif
