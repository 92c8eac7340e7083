#ifndef FINCH_DETAIL_JSON_BINARY_WRITER_HPP
#define FINCH_DETAIL_JSON_BINARY_WRITER_HPP

#include <finch/encoding.hpp>

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace finch::detail {

// Appends MessagePack or CBOR to a frame buffer. The envelope's own members
// (its map header, keys, path, numbers) are written here, so that no JSON
// object is built around `data` (which would copy it); the values go through
// nlohmann's writers, straight into the buffer.
class BinaryWriter {
public:
    BinaryWriter(std::string& out, Encoding encoding) noexcept
        : out_(out)
        , encoding_(encoding)
    {
    }

    // The head of a map of `count` members (count < 16: fixmap, CBOR's short form).
    void mapHeader(std::size_t count)
    {
        out_ += static_cast<char>(encoding_ == Encoding::msgpack ? 0x80 | count : 0xA0 | count);
    }

    void string(std::string_view text)
    {
        const std::size_t length = text.size();
        if (encoding_ == Encoding::msgpack) {
            if (length < 32)
                out_ += static_cast<char>(0xA0 | length);
            else
                sizedHead(length, 0xD9, 0xDA, 0xDB);
        } else {
            if (length < 24)
                out_ += static_cast<char>(0x60 | length);
            else
                sizedHead(length, 0x78, 0x79, 0x7A);
        }
        out_ += text;
    }

    void value(const nlohmann::json& value)
    {
        if (encoding_ == Encoding::msgpack)
            nlohmann::json::to_msgpack(value, out_);
        else
            nlohmann::json::to_cbor(value, out_);
    }

    void integer(std::int64_t number) { value(nlohmann::json(number)); }

private:
    // A length of 8, 16 or 32 bits after its marker, big-endian (the same
    // layout in both formats; a frame never holds 4 GiB).
    void sizedHead(std::size_t length, unsigned char one, unsigned char two, unsigned char four)
    {
        if (length <= 0xFF) {
            out_ += static_cast<char>(one);
            put(length, 1);
        } else if (length <= 0xFFFF) {
            out_ += static_cast<char>(two);
            put(length, 2);
        } else {
            out_ += static_cast<char>(four);
            put(length, 4);
        }
    }

    void put(std::size_t number, int bytes)
    {
        for (int shift = (bytes - 1) * 8; shift >= 0; shift -= 8)
            out_ += static_cast<char>((number >> shift) & 0xFF);
    }

    std::string& out_;
    Encoding encoding_;
};

}  // namespace finch::detail

#endif
