#ifndef FINCH_DETAIL_HTTP_UPGRADE_TARGET_HPP
#define FINCH_DETAIL_HTTP_UPGRADE_TARGET_HPP

#include <string_view>

namespace finch::detail {

// Whether a request target ("/ws?token=abc") names the WebSocket endpoint
// ("/ws"): the path must match exactly; a query string is allowed.
inline bool targetMatches(std::string_view requestTarget, std::string_view endpoint) noexcept
{
    const auto query = requestTarget.find('?');
    return requestTarget.substr(0, query) == endpoint;
}

}  // namespace finch::detail

#endif
