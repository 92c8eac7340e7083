#ifndef FINCH_DETAIL_JSON_BINARY_READER_HPP
#define FINCH_DETAIL_JSON_BINARY_READER_HPP

#include <finch/encoding.hpp>

#include <nlohmann/json.hpp>

#include <cstddef>
#include <exception>
#include <string>
#include <string_view>

namespace finch::detail {

// Why readBinary refused a message.
struct BinaryReadFailure {
    std::size_t offset = 0;  // bytes read when the problem was found
    bool tooDeep = false;  // the nesting limit was exceeded
    std::string reason;  // nlohmann's message, or a short English phrase
};

// nlohmann's DOM builder behind a depth gate. nlohmann's binary readers
// recurse once per nesting level, so the limit must stop them before they
// go deeper, not after the value is built: a start event past `limit`
// returns false, which ends the recursion at once. One pass, no scan first.
class BoundedDomBuilder {
public:
    using Json = nlohmann::json;

    BoundedDomBuilder(Json& result, std::size_t limit, BinaryReadFailure& failure)
        : dom_(result, false)
        , limit_(limit)
        , failure_(failure)
    {
    }

    bool null() { return dom_.null(); }
    bool boolean(bool value) { return dom_.boolean(value); }
    bool number_integer(Json::number_integer_t value) { return dom_.number_integer(value); }
    bool number_unsigned(Json::number_unsigned_t value) { return dom_.number_unsigned(value); }
    bool number_float(Json::number_float_t value, const std::string& text) { return dom_.number_float(value, text); }
    bool string(std::string& value) { return dom_.string(value); }
    bool binary(Json::binary_t& value) { return dom_.binary(value); }
    bool key(std::string& value) { return dom_.key(value); }
    bool start_object(std::size_t length) { return enter() && dom_.start_object(length); }
    bool end_object()
    {
        --depth_;
        return dom_.end_object();
    }
    bool start_array(std::size_t length) { return enter() && dom_.start_array(length); }
    bool end_array()
    {
        --depth_;
        return dom_.end_array();
    }

    template <class Exception>
    bool parse_error(std::size_t offset, const std::string&, const Exception& exception)
    {
        failure_.offset = offset;
        failure_.reason = exception.what();
        return false;
    }

private:
    bool enter()
    {
        if (++depth_ <= limit_)
            return true;
        failure_.tooDeep = true;
        return false;
    }

    nlohmann::detail::json_sax_dom_parser<Json> dom_;
    std::size_t depth_ = 0;
    std::size_t limit_;
    BinaryReadFailure& failure_;
};

// Reads one MessagePack or CBOR value (`encoding` is not JSON) that fills
// `bytes` exactly, nested at most `maxDepth` levels, into `result`. False,
// with `failure` set and `result` unspecified, for invalid, truncated or too
// deeply nested input, or input with trailing bytes. Never throws for bad
// input: nlohmann reports through parse_error, and what it would still
// throw (a declared length past max_size(), no memory) is caught.
inline bool readBinary(
    std::string_view bytes, Encoding encoding, nlohmann::json& result, std::size_t maxDepth, BinaryReadFailure& failure)
{
    using Json = nlohmann::json;
    const auto format = encoding == Encoding::cbor ? Json::input_format_t::cbor : Json::input_format_t::msgpack;
    try {
        BoundedDomBuilder builder(result, maxDepth, failure);
        const auto* first = reinterpret_cast<const unsigned char*>(bytes.data());
        auto input = nlohmann::detail::input_adapter(first, first + bytes.size());
        // CBOR tags are skipped, the tagged value read as it is: common
        // encoders tag what JSON has no type for (cbor-x writes a Uint8Array
        // as tag 64 around a byte string), and refusing them would refuse
        // those clients' every binary value.
        nlohmann::detail::binary_reader<Json, decltype(input), BoundedDomBuilder> reader(std::move(input), format);
        if (reader.sax_parse(format, &builder, true, nlohmann::detail::cbor_tag_handler_t::ignore))
            return true;
        if (failure.reason.empty() && !failure.tooDeep)
            failure.reason = "invalid input";
        return false;
    } catch (const std::exception& exception) {
        failure.reason = exception.what();
        return false;
    }
}

}  // namespace finch::detail

#endif
