#ifndef FINCH_ENVELOPE_HPP
#define FINCH_ENVELOPE_HPP

#include <finch/encoding.hpp>
#include <finch/envelope_format.hpp>
#include <finch/error.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
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

/// An envelope that asks the client for an answer (`Socket::request`):
/// `{"path":<path>,"status":<status>,"timestamp":<timestamp>,"id":<id>,"data":<data>}`.
/// The client answers with `{"replyTo":<id>, ...}`. A null `id` gives the
/// envelope of the overload without it.
std::string encodeEnvelope(
    std::string_view path, int status, std::int64_t timestamp, const nlohmann::json& data, const nlohmann::json& id);

/// The answer to a client's message that carried `"id":<requestId>`
/// (`Socket::reply`): the envelope with `"id":<requestId>,"replyTo":<requestId>`
/// before `"data"`. `id` is what the client matches; `replyTo` tells an answer
/// apart from a request of the server, which has an `id` and no `replyTo`. A
/// null `requestId` gives the plain envelope.
std::string encodeReplyEnvelope(std::string_view path, int status, std::int64_t timestamp, const nlohmann::json& data,
    const nlohmann::json& requestId);

/// `envelope` (from `encodeEnvelope`) with `"client":<clientId>` as its first
/// member, for `Options::includeClientId`. `clientId` must need no JSON
/// escaping, which holds for the ids finch generates (hexadecimal).
std::string withClientId(std::string_view envelope, std::string_view clientId);

/// The error envelope finch answers a bad message with:
/// `{"path":"error","status":<statusOf(code)>,"timestamp":...,"data":{"message":...}}`,
/// plus `"path":<requestPath>` inside `data` when the request's path is known.
std::string encodeErrorEnvelope(
    ErrorCode code, std::string_view message, std::int64_t timestamp, std::string_view requestPath = {});

/// The error envelope that answers a message which carried `"id":<requestId>`:
/// as above, with `"id"` and `"replyTo"` as in `encodeReplyEnvelope`, so that
/// the client can match the failure to its request.
std::string encodeErrorEnvelope(ErrorCode code, std::string_view message, std::int64_t timestamp,
    std::string_view requestPath, const nlohmann::json& requestId);

/// `encodeEnvelope` in another format (`Options::envelope`): the route
/// member holds `path`, the data member `data`, and status and timestamp
/// are written when the format has members for them. A non-null `id` is
/// written as `"id"` before the data, as for a request of the server.
std::string encodeEnvelope(const EnvelopeFormat& format, std::string_view path, int status, std::int64_t timestamp,
    const nlohmann::json& data, const nlohmann::json& id = nullptr);

/// `encodeReplyEnvelope` in another format.
std::string encodeReplyEnvelope(const EnvelopeFormat& format, std::string_view path, int status, std::int64_t timestamp,
    const nlohmann::json& data, const nlohmann::json& requestId);

/// `encodeErrorEnvelope` in another format: the route `"error"`, and the
/// request's path inside the data under the format's route member.
std::string encodeErrorEnvelope(const EnvelopeFormat& format, ErrorCode code, std::string_view message,
    std::int64_t timestamp, std::string_view requestPath = {}, const nlohmann::json& requestId = nullptr);

/// The result of decoding one incoming text frame.
struct DecodedMessage {
    /// The whole decoded object, as handlers receive it; null on failure.
    nlohmann::json message;
    /// Empty on success, else `invalidJson`, `notAnObject` or `invalidPath`.
    boost::system::error_code error;
    /// What was wrong, for the error envelope and `onError`; empty on success.
    std::string detail;
    /// The message's `"id"` (a string or a number) when it has one: the client
    /// asks for an answer that carries it back. Null otherwise. Also kept when
    /// the message is refused for its path, so the error envelope can carry it.
    nlohmann::json id;
    /// Set when the message answers a request of the server: its `"replyTo"`.
    std::optional<std::uint64_t> replyTo;
    /// The message's route: the value of its `"path"` (or of the format's
    /// route member). Empty on failure and for an answer to a request.
    std::string route;

    /// The message's route. Precondition: `!error && !replyTo`.
    const std::string& path() const noexcept { return route; }
};

/// How deeply an incoming message may nest arrays and objects, the envelope
/// itself counting as one level. A deeper message is refused as
/// `ErrorCode::invalidJson` without being parsed: copying or serializing a JSON
/// value (as `Socket::send` does) recurses once per level, so a frame of a
/// few hundred kilobytes of brackets would otherwise overflow the stack.
inline constexpr std::size_t maxMessageDepth = 128;

/// Decodes an incoming frame: a JSON object with a string `"path"`, any
/// (optional) `"data"` and an optional `"id"` that is a string or a number; or
/// an answer to a request of the server, an object with a non-negative
/// integer `"replyTo"`, for which `"path"` is optional. Nested at most
/// `maxMessageDepth` levels. JSON is read strictly (RFC 8259: one value,
/// strings of valid UTF-8, no NUL byte outside a string). Never throws for
/// bad input; the failure is in the result, with the byte offset of the
/// problem in `detail`.
DecodedMessage decodeEnvelope(std::string_view text);

/// `decodeEnvelope` for another format: the route is read from the format's
/// route member instead of `"path"`.
DecodedMessage decodeEnvelope(const EnvelopeFormat& format, std::string_view text);

/// `decodeEnvelope` for a message in `encoding`: MessagePack or CBOR bytes
/// holding the same object a JSON message holds (`Encoding::json` reads
/// `bytes` as JSON text). The same rules apply after decoding, and the same
/// errors: bytes that are not one complete value of the encoding (invalid,
/// truncated, trailing bytes) or nest deeper than
/// `maxMessageDepth` give `ErrorCode::invalidJson`, found before the value is
/// built past the limit. MessagePack bin and ext and CBOR byte strings become
/// `nlohmann::json::binary_t`. CBOR tags are skipped (the tagged value is
/// read as if untagged). Map keys must be strings.
///
/// @par Thread Safety
/// Safe from any thread. Never throws for bad input.
DecodedMessage decodeEnvelope(const EnvelopeFormat& format, Encoding encoding, std::string_view bytes);

}  // namespace finch

#include <finch/impl/envelope.hpp>

#endif
