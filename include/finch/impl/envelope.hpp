#ifndef FINCH_IMPL_ENVELOPE_HPP
#define FINCH_IMPL_ENVELOPE_HPP

#include <finch/envelope.hpp>

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

// Everything before the data. `members`, when not empty, is JSON text
// (`"name":value`, comma separated) placed between the timestamp and the data.
inline void appendEnvelopeHead(
    std::string& out, std::string_view path, int status, std::int64_t timestamp, std::string_view members = {})
{
    out += R"({"path":)";
    appendJsonString(out, path);
    out += R"(,"status":)";
    out += std::to_string(status);
    out += R"(,"timestamp":)";
    out += std::to_string(timestamp);
    if (!members.empty()) {
        out += ',';
        out += members;
    }
    out += R"(,"data":)";
}

// Whether valid JSON `text` opens more than `limit` arrays or objects at once;
// brackets inside strings do not count. Text that is not JSON may be counted
// wrongly, which is harmless: the parser refuses it anyway. nlohmann's parser
// takes a NUL byte outside a string for the end of the input, so what follows
// one is never parsed and does not count either.
inline bool nestsDeeperThan(std::string_view text, std::size_t limit) noexcept
{
    std::size_t depth = 0;
    bool inString = false;
    bool escaped = false;
    for (const char c : text) {
        if (inString) {
            if (escaped)
                escaped = false;
            else if (c == '\\')
                escaped = true;
            else if (c == '"')
                inString = false;
        } else if (c == '"') {
            inString = true;
        } else if (c == '\0') {
            return false;
        } else if (c == '[' || c == '{') {
            if (++depth > limit)
                return true;
        } else if ((c == ']' || c == '}') && depth > 0) {
            --depth;
        }
    }
    return false;
}

}  // namespace detail

namespace detail {

// encodeEnvelope, appended to `out`: the connection encodes straight after
// the space it keeps for the frame header.
inline void appendEnvelope(
    std::string& out, std::string_view path, int status, std::int64_t timestamp, const nlohmann::json& data)
{
    const std::string body = data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    out.reserve(out.size() + 64 + path.size() + body.size());
    appendEnvelopeHead(out, path, status, timestamp);
    out += body;
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

}  // namespace detail

inline std::string encodeEnvelope(std::string_view path, int status, std::int64_t timestamp, const nlohmann::json& data)
{
    std::string out;
    detail::appendEnvelope(out, path, status, timestamp, data);
    return out;
}

inline std::string withClientId(std::string_view envelope, std::string_view clientId)
{
    std::string out;
    detail::appendWithClientId(out, envelope, clientId);
    return out;
}

namespace detail {

// An envelope whose `members` (already JSON text: `"name":value`, comma
// separated) stand between its head and its data. The id-less envelope, by
// far the most frequent, keeps its own shorter path in encodeEnvelope.
inline std::string encodeEnvelopeWith(
    std::string_view path, int status, std::int64_t timestamp, std::string_view members, const nlohmann::json& data)
{
    const std::string body = data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    std::string out;
    out.reserve(72 + path.size() + members.size() + body.size());
    appendEnvelopeHead(out, path, status, timestamp, members);
    out += body;
    out += '}';
    return out;
}

// An id chosen by a client came out of the JSON parser, so it is valid; one
// handed to Socket::reply by the application may not be, hence `replace`.
inline std::string idText(const nlohmann::json& id)
{
    return id.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace detail

inline std::string encodeEnvelope(
    std::string_view path, int status, std::int64_t timestamp, const nlohmann::json& data, const nlohmann::json& id)
{
    if (id.is_null())
        return encodeEnvelope(path, status, timestamp, data);
    return detail::encodeEnvelopeWith(path, status, timestamp, R"("id":)" + detail::idText(id), data);
}

inline std::string encodeReplyEnvelope(std::string_view path, int status, std::int64_t timestamp,
    const nlohmann::json& data, const nlohmann::json& requestId)
{
    if (requestId.is_null())
        return encodeEnvelope(path, status, timestamp, data);
    const std::string id = detail::idText(requestId);
    return detail::encodeEnvelopeWith(path, status, timestamp, R"("id":)" + id + R"(,"replyTo":)" + id, data);
}

inline std::string encodeErrorEnvelope(
    error code, std::string_view message, std::int64_t timestamp, std::string_view requestPath)
{
    nlohmann::json data = {{"message", std::string(message)}};
    if (!requestPath.empty())
        data["path"] = std::string(requestPath);
    return encodeEnvelope("error", statusOf(code), timestamp, data);
}

inline std::string encodeErrorEnvelope(error code, std::string_view message, std::int64_t timestamp,
    std::string_view requestPath, const nlohmann::json& requestId)
{
    nlohmann::json data = {{"message", std::string(message)}};
    if (!requestPath.empty())
        data["path"] = std::string(requestPath);
    return encodeReplyEnvelope("error", statusOf(code), timestamp, data, requestId);
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
            result.error = error::invalid_id;
            result.detail = "\"replyTo\" must be a non-negative integer";
            return false;
        }
        result.replyTo = replyTo->get<std::uint64_t>();
        return true;
    }
    const auto id = result.message.find("id");
    if (id != result.message.end()) {
        if (!id->is_string() && !id->is_number()) {
            result.error = error::invalid_id;
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
    DecodedMessage result;
    if (detail::nestsDeeperThan(text, maxMessageDepth)) {
        result.error = error::invalid_json;
        result.detail = "the message nests deeper than " + std::to_string(maxMessageDepth) + " levels";
        return result;
    }
    // The throwing parser is used for its precise complaint ("syntax error
    // at byte N"), which is worth the cost of an exception on the error path.
    try {
        result.message = nlohmann::json::parse(text.begin(), text.end());
    } catch (const nlohmann::json::exception& e) {
        result.message = nullptr;
        result.error = error::invalid_json;
        result.detail = e.what();
        return result;
    }
    if (!result.message.is_object()) {
        result.error = error::not_an_object;
        result.detail = "expected a JSON object, got ";
        result.detail += result.message.type_name();
        result.message = nullptr;
        return result;
    }
    if (!detail::readMessageIds(result)) {
        result.message = nullptr;
        return result;
    }
    if (result.replyTo)
        return result;
    const auto path = result.message.find("path");
    if (path == result.message.end() || !path->is_string()) {
        result.error = error::invalid_path;
        result.detail =
            path == result.message.end() ? "the object has no \"path\" member" : "\"path\" must be a string";
        result.message = nullptr;
    }
    return result;
}

}  // namespace finch

#endif
