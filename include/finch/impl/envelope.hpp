#ifndef FINCH_IMPL_ENVELOPE_HPP
#define FINCH_IMPL_ENVELOPE_HPP

#include <finch/envelope.hpp>

#include <finch/detail/json/binary_reader.hpp>
#include <finch/detail/json/binary_writer.hpp>
#include <finch/detail/json/json_reader.hpp>

#include <charconv>
#include <iterator>
#include <memory>

namespace finch {

namespace detail {

// Paths are nearly always short ASCII identifiers; those are copied as they
// are, and anything else goes through nlohmann's escaper.
inline void appendJsonString(std::string& out, std::string_view text)
{
    bool plain = true;
    for (unsigned char c : text) {
        if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
            plain = false;
            break;
        }
    }
    if (plain) {
        out += '"';
        out += text;
        out += '"';
        return;
    }
    out += nlohmann::json(std::string(text)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// nlohmann's serializer, kept for the life of the thread and writing
// straight into the caller's buffer. Made per message, as `dump()` does, it
// costs a localeconv() call and an allocation for its output adapter, and
// its result would be copied once more into the frame; nlohmann's public API
// has no way to append to a string of ours.
//
// `nlohmann::detail::serializer` and `output_adapter_protocol` are nlohmann's
// internals, not its public API (finch builds against 3.11.2, Debian 12's):
// a unit test (tests/unit/envelope_test.cpp) compares what this writes with
// the public dump() for every kind of value, so a nlohmann/json that changes
// them fails there, at compile time or by its output.
class JsonAppender {
public:
    void append(std::string& out, const nlohmann::json& value)
    {
        sink_->target = &out;
        // Strings that are not valid UTF-8 get U+FFFD instead of an exception:
        // a browser fails the whole connection on a text frame that is not UTF-8.
        serializer_.dump(value, false, false, 0);
        sink_->target = nullptr;
    }

private:
    struct Sink final : nlohmann::detail::output_adapter_protocol<char> {
        std::string* target = nullptr;
        void write_character(char c) override { target->push_back(c); }
        void write_characters(const char* s, std::size_t length) override { target->append(s, length); }
    };

    std::shared_ptr<Sink> sink_ = std::make_shared<Sink>();
    nlohmann::detail::serializer<nlohmann::json> serializer_{sink_, ' ', nlohmann::json::error_handler_t::replace};
};

// Appends `value` as compact JSON text.
inline void appendJson(std::string& out, const nlohmann::json& value)
{
    thread_local JsonAppender appender;
    appender.append(out, value);
}

inline void appendInteger(std::string& out, std::int64_t value)
{
    char digits[24];
    const auto end = std::to_chars(std::begin(digits), std::end(digits), value).ptr;
    out.append(digits, static_cast<std::size_t>(end - digits));
}

// Roughly how long `data` will be as JSON text, to size the buffer once.
inline std::size_t jsonSizeHint(const nlohmann::json& data) noexcept
{
    return data.is_string() ? data.get_ref<const std::string&>().size() + 8 : 64;
}

inline const EnvelopeFormat& finchFormat()
{
    static const EnvelopeFormat format;
    return format;
}

// Everything before the data. `members`, when not empty, is JSON text
// (`"name":value`, comma separated) placed between the timestamp and the data.
inline void appendEnvelopeHead(std::string& out, const EnvelopeFormat& format, std::string_view path, int status,
    std::int64_t timestamp, std::string_view members = {})
{
    out += format.headKey();
    appendJsonString(out, path);
    if (!format.statusKey().empty()) {
        out += format.statusKey();
        appendInteger(out, status);
    }
    if (!format.timestampKey().empty()) {
        out += format.timestampKey();
        appendInteger(out, timestamp);
    }
    if (!members.empty()) {
        out += ',';
        out += members;
    }
    out += format.dataKey();
}

}  // namespace detail

namespace detail {

// encodeEnvelope, appended to `out`: the connection encodes straight after
// the space it keeps for the frame header. `members` as in appendEnvelopeHead.
inline void appendEnvelope(std::string& out, const EnvelopeFormat& format, std::string_view path, int status,
    std::int64_t timestamp, const nlohmann::json& data, std::string_view members = {})
{
    out.reserve(out.size() + 96 + path.size() + members.size() + jsonSizeHint(data));
    appendEnvelopeHead(out, format, path, status, timestamp, members);
    appendJson(out, data);
    out += '}';
}

inline void appendWithClientId(std::string& out, std::string_view envelope, std::string_view clientId)
{
    constexpr std::string_view key = R"("client":")";
    out.reserve(out.size() + envelope.size() + key.size() + clientId.size() + 2);
    out += '{';
    out += key;
    out += clientId;
    out += "\",";
    out += envelope.substr(1);
}

// An id chosen by a client came out of the JSON parser, so it is valid; one
// handed to Socket::reply by the application may not be: appendJson replaces
// what is not UTF-8.
inline std::string idText(const nlohmann::json& id)
{
    std::string text;
    appendJson(text, id);
    return text;
}

// The members an envelope carries between its timestamp and its data: none,
// `"id":<id>` for a request of the server, `"id":<id>,"replyTo":<id>` for an
// answer to a client's request. Empty when `id` is null.
inline std::string requestMembers(const nlohmann::json& id)
{
    return id.is_null() ? std::string() : R"("id":)" + idText(id);
}

inline std::string replyMembers(const nlohmann::json& id)
{
    if (id.is_null())
        return {};
    const std::string text = idText(id);
    return R"("id":)" + text + R"(,"replyTo":)" + text;
}

inline std::string encodeWith(const EnvelopeFormat& format, std::string_view path, int status, std::int64_t timestamp,
    const nlohmann::json& data, std::string_view members)
{
    std::string out;
    appendEnvelope(out, format, path, status, timestamp, data, members);
    return out;
}

inline nlohmann::json errorData(const EnvelopeFormat& format, std::string_view message, std::string_view requestPath)
{
    nlohmann::json data = {{"message", std::string(message)}};
    if (!requestPath.empty())
        data[format.pathMember()] = std::string(requestPath);
    return data;
}

// Which of the members that pair requests and answers an envelope carries:
// none, `"id"` (a request of the server), or `"id"` and `"replyTo"` (an
// answer to a client's request). None when the id is null.
enum class IdMembers { none, request, reply };

// The envelope of appendEnvelope in MessagePack or CBOR: a map with the same
// members in the same order (`"client"` first when `clientId` is not empty),
// so that a client decodes the same object whatever the encoding.
inline void appendBinaryEnvelope(std::string& out, Encoding encoding, const EnvelopeFormat& format,
    std::string_view path, int status, std::int64_t timestamp, const nlohmann::json& data,
    const nlohmann::json& id = nullptr, IdMembers members = IdMembers::none, std::string_view clientId = {})
{
    if (id.is_null())
        members = IdMembers::none;
    const std::size_t count = 2 + !format.statusMember().empty() + !format.timestampMember().empty() +
        (members == IdMembers::none             ? 0
                : members == IdMembers::request ? 1
                                                : 2) +
        !clientId.empty();
    BinaryWriter writer(out, encoding);
    writer.mapHeader(count);
    if (!clientId.empty()) {
        writer.string("client");
        writer.string(clientId);
    }
    writer.string(format.pathMember());
    writer.string(path);
    if (!format.statusMember().empty()) {
        writer.string(format.statusMember());
        writer.integer(status);
    }
    if (!format.timestampMember().empty()) {
        writer.string(format.timestampMember());
        writer.integer(timestamp);
    }
    if (members != IdMembers::none) {
        writer.string("id");
        writer.value(id);
    }
    if (members == IdMembers::reply) {
        writer.string("replyTo");
        writer.value(id);
    }
    writer.string(format.dataMember());
    writer.value(data);
}

}  // namespace detail

inline std::string encodeEnvelope(const EnvelopeFormat& format, std::string_view path, int status,
    std::int64_t timestamp, const nlohmann::json& data, const nlohmann::json& id)
{
    return detail::encodeWith(format, path, status, timestamp, data, detail::requestMembers(id));
}

inline std::string encodeReplyEnvelope(const EnvelopeFormat& format, std::string_view path, int status,
    std::int64_t timestamp, const nlohmann::json& data, const nlohmann::json& requestId)
{
    return detail::encodeWith(format, path, status, timestamp, data, detail::replyMembers(requestId));
}

inline std::string encodeErrorEnvelope(const EnvelopeFormat& format, ErrorCode code, std::string_view message,
    std::int64_t timestamp, std::string_view requestPath, const nlohmann::json& requestId)
{
    return encodeReplyEnvelope(
        format, "error", statusOf(code), timestamp, detail::errorData(format, message, requestPath), requestId);
}

inline std::string encodeEnvelope(std::string_view path, int status, std::int64_t timestamp, const nlohmann::json& data)
{
    return encodeEnvelope(detail::finchFormat(), path, status, timestamp, data);
}

inline std::string encodeEnvelope(
    std::string_view path, int status, std::int64_t timestamp, const nlohmann::json& data, const nlohmann::json& id)
{
    return encodeEnvelope(detail::finchFormat(), path, status, timestamp, data, id);
}

inline std::string encodeReplyEnvelope(std::string_view path, int status, std::int64_t timestamp,
    const nlohmann::json& data, const nlohmann::json& requestId)
{
    return encodeReplyEnvelope(detail::finchFormat(), path, status, timestamp, data, requestId);
}

inline std::string withClientId(std::string_view envelope, std::string_view clientId)
{
    std::string out;
    detail::appendWithClientId(out, envelope, clientId);
    return out;
}

inline std::string encodeErrorEnvelope(
    ErrorCode code, std::string_view message, std::int64_t timestamp, std::string_view requestPath)
{
    return encodeErrorEnvelope(detail::finchFormat(), code, message, timestamp, requestPath);
}

inline std::string encodeErrorEnvelope(ErrorCode code, std::string_view message, std::int64_t timestamp,
    std::string_view requestPath, const nlohmann::json& requestId)
{
    return encodeErrorEnvelope(detail::finchFormat(), code, message, timestamp, requestPath, requestId);
}

namespace detail {

// Reads the members that pair requests and answers. False, with the error
// set, when they have the wrong type.
inline bool readMessageIds(DecodedMessage& result)
{
    const auto replyTo = result.message.find("replyTo");
    if (replyTo != result.message.end()) {
        // Negative integers parse as number_integer, fractions as number_float.
        if (!replyTo->is_number_unsigned()) {
            result.error = ErrorCode::invalidId;
            result.detail = "\"replyTo\" must be a non-negative integer";
            return false;
        }
        result.replyTo = replyTo->get<std::uint64_t>();
        return true;
    }
    const auto id = result.message.find("id");
    if (id != result.message.end()) {
        if (!id->is_string() && !id->is_number()) {
            result.error = ErrorCode::invalidId;
            result.detail = "\"id\" must be a string or a number";
            return false;
        }
        result.id = *id;
    }
    return true;
}

}  // namespace detail

inline DecodedMessage decodeEnvelope(std::string_view text)
{
    return decodeEnvelope(detail::finchFormat(), text);
}

namespace detail {

// The rules every decoded message must follow, whatever its encoding: an
// object; `"id"` and `"replyTo"` as readMessageIds wants them; and unless it
// is an answer, a string route. On failure the error is set and the message
// dropped.
inline void checkEnvelope(const EnvelopeFormat& format, DecodedMessage& result)
{
    if (!result.message.is_object()) {
        result.error = ErrorCode::notAnObject;
        result.detail = "expected an object, got ";
        result.detail += result.message.type_name();
        result.message = nullptr;
        return;
    }
    if (!readMessageIds(result)) {
        result.message = nullptr;
        return;
    }
    if (result.replyTo)
        return;
    const auto path = result.message.find(format.pathMember());
    if (path == result.message.end() || !path->is_string()) {
        result.error = ErrorCode::invalidPath;
        result.detail = path == result.message.end() ? "the object has no \"" + format.pathMember() + "\" member"
                                                     : "\"" + format.pathMember() + "\" must be a string";
        result.message = nullptr;
        return;
    }
    result.route = path->get_ref<const std::string&>();
}

inline std::string tooDeepDetail()
{
    return "the message nests deeper than " + std::to_string(maxMessageDepth) + " levels";
}

}  // namespace detail

inline DecodedMessage decodeEnvelope(const EnvelopeFormat& format, std::string_view text)
{
    DecodedMessage result;
    // finch's own reader: strict RFC 8259 and nlohmann's DOM, without
    // nlohmann's lexer, and it refuses a message nested too deeply as it
    // goes, without a scan of its own first.
    detail::JsonReadFailure failure;
    if (!detail::readJson(text, result.message, maxMessageDepth, failure)) {
        result.message = nullptr;
        result.error = ErrorCode::invalidJson;
        if (failure.tooDeep)
            result.detail = detail::tooDeepDetail();
        else
            result.detail =
                "invalid JSON at byte " + std::to_string(failure.offset) + ": " + std::string(failure.reason);
        return result;
    }
    detail::checkEnvelope(format, result);
    return result;
}

inline DecodedMessage decodeEnvelope(const EnvelopeFormat& format, Encoding encoding, std::string_view bytes)
{
    if (encoding == Encoding::json)
        return decodeEnvelope(format, bytes);
    DecodedMessage result;
    detail::BinaryReadFailure failure;
    if (!detail::readBinary(bytes, encoding, result.message, maxMessageDepth, failure)) {
        result.message = nullptr;
        result.error = ErrorCode::invalidJson;
        if (failure.tooDeep)
            result.detail = detail::tooDeepDetail();
        else
            result.detail = std::string(encoding == Encoding::cbor ? "invalid CBOR" : "invalid MessagePack") +
                " at byte " + std::to_string(failure.offset) + ": " + failure.reason;
        return result;
    }
    detail::checkEnvelope(format, result);
    return result;
}

}  // namespace finch

#endif
