#ifndef FINCH_IMPL_SUBPROTOCOL_HPP
#define FINCH_IMPL_SUBPROTOCOL_HPP

#include <finch/subprotocol.hpp>

#include <boost/beast/http/field.hpp>

#include <algorithm>
#include <cstddef>
#include <string_view>

namespace finch {

namespace detail {

// The first subprotocol of `offered` (the client's order) that `spoken`
// lists, or empty for none: the client's preference wins, as it does for
// content negotiation, because the server speaks each of its own equally.
inline std::string firstSpoken(const std::vector<std::string>& offered, const std::vector<std::string>& spoken)
{
    for (const auto& candidate : offered)
        if (std::find(spoken.begin(), spoken.end(), candidate) != spoken.end())
            return candidate;
    return {};
}

// "a, b" for an answer's text; "none" for an empty list.
inline std::string subprotocolList(const std::vector<std::string>& names)
{
    if (names.empty())
        return "none";
    std::string out;
    for (const auto& name : names) {
        if (!out.empty())
            out += ", ";
        out += name;
    }
    return out;
}

}  // namespace detail

inline std::vector<std::string> offeredSubprotocols(const Request& request)
{
    std::vector<std::string> offered;
    const auto isBlank = [](char c) { return c == ' ' || c == '\t'; };
    const auto fields = request.equal_range(boost::beast::http::field::sec_websocket_protocol);
    for (auto field = fields.first; field != fields.second; ++field) {
        const std::string_view value(field->value().data(), field->value().size());
        std::size_t start = 0;
        while (start <= value.size()) {
            const std::size_t comma = std::min(value.find(',', start), value.size());
            std::size_t first = start;
            std::size_t last = comma;
            while (first < last && isBlank(value[first]))
                ++first;
            while (last > first && isBlank(value[last - 1]))
                --last;
            if (last > first)
                offered.emplace_back(value.substr(first, last - first));
            start = comma + 1;
        }
    }
    return offered;
}

}  // namespace finch

#endif
