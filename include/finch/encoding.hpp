#ifndef FINCH_ENCODING_HPP
#define FINCH_ENCODING_HPP

#include <optional>
#include <string_view>

namespace finch {

/// How a connection's envelopes are written on the wire. Whatever the
/// encoding, handlers see the same `nlohmann::json` message and every send
/// takes the same `nlohmann::json` data; only the bytes differ.
///
/// A client chooses by subprotocol (`Options::encodings`): `finch.json`,
/// `finch.msgpack` or `finch.cbor`; one that offers none of them gets JSON.
enum class Encoding {
    /// JSON text in text frames: finch's default, and what every connection
    /// speaks when `Options::encodings` lists nothing else.
    json,
    /// MessagePack in binary frames. `nlohmann::json::binary_t` values travel
    /// as MessagePack bin (or ext, with a subtype), without base64.
    msgpack,
    /// CBOR (RFC 8949) in binary frames. `nlohmann::json::binary_t` values
    /// travel as byte strings, without base64.
    cbor,
};

/// The subprotocol that selects `encoding`: `"finch.json"`, `"finch.msgpack"`
/// or `"finch.cbor"`.
///
/// @par Thread Safety
/// Safe from any thread.
constexpr std::string_view subprotocolOf(Encoding encoding) noexcept
{
    switch (encoding) {
    case Encoding::msgpack:
        return "finch.msgpack";
    case Encoding::cbor:
        return "finch.cbor";
    case Encoding::json:
        break;
    }
    return "finch.json";
}

/// The encoding a subprotocol selects, or nothing when `subprotocol` is not
/// one of finch's (`"chat"`, `""`). Case-sensitive, as subprotocol names are.
///
/// @par Thread Safety
/// Safe from any thread.
constexpr std::optional<Encoding> encodingOf(std::string_view subprotocol) noexcept
{
    for (Encoding encoding : {Encoding::json, Encoding::msgpack, Encoding::cbor})
        if (subprotocolOf(encoding) == subprotocol)
            return encoding;
    return std::nullopt;
}

}  // namespace finch

#endif
