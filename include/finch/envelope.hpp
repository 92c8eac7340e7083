#ifndef FINCH_ENVELOPE_HPP
#define FINCH_ENVELOPE_HPP

#include <finch/error.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace finch {

/// Milliseconds since the Unix epoch, the unit of the envelope's `"timestamp"`.
inline std::int64_t nowMilliseconds() noexcept
{
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

/// An outgoing envelope as JSON text:
/// `{"path":<path>,"status":<status>,"timestamp":<timestamp>,"data":<data>}`.
///
/// `data` is serialized exactly once; strings that are not valid UTF-8 are
/// written with U+FFFD in place of the bad bytes instead of throwing, because
/// a browser fails the whole connection on a text frame that is not UTF-8.
std::string encodeEnvelope(std::string_view path, int status, std::int64_t timestamp, const nlohmann::json& data);

/// `envelope` (from `encodeEnvelope`) with `"client":<clientId>` as its first
/// member, for `Options::includeClientId`. `clientId` must need no JSON
/// escaping, which holds for the ids finch generates (hexadecimal).
std::string withClientId(std::string_view envelope, std::string_view clientId);

/// The error envelope finch answers a bad message with:
/// `{"path":"error","status":<statusOf(code)>,"timestamp":...,"data":{"message":...}}`,
/// plus `"path":<requestPath>` inside `data` when the request's path is known.
std::string encodeErrorEnvelope(
    error code, std::string_view message, std::int64_t timestamp, std::string_view requestPath = {});

/// The result of decoding one incoming text frame.
struct DecodedMessage {
    /// The whole decoded object, as handlers receive it; null on failure.
    nlohmann::json message;
    /// Empty on success, else `invalid_json`, `not_an_object` or `invalid_path`.
    boost::system::error_code error;
    /// What was wrong, for the error envelope and `onError`; empty on success.
    std::string detail;

    /// The message's `"path"`. Precondition: `!error`.
    const std::string& path() const { return message.find("path")->get_ref<const std::string&>(); }
};

/// How deeply an incoming message may nest arrays and objects, the envelope
/// itself counting as one level. A deeper message is refused as
/// `error::invalid_json` without being parsed: copying or serializing a JSON
/// value (as `Socket::send` does) recurses once per level, so a frame of a
/// few hundred kilobytes of brackets would otherwise overflow the stack.
inline constexpr std::size_t maxMessageDepth = 128;

/// Decodes an incoming frame: a JSON object with a string `"path"` and any
/// (optional) `"data"`, nested at most `maxMessageDepth` levels. Never throws
/// for bad input; the failure is in the result.
DecodedMessage decodeEnvelope(std::string_view text);

}  // namespace finch

#include <finch/impl/envelope.hpp>

#endif
