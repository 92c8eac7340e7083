// GET /finch.js: finch's JavaScript client (clients/js/finch.js), which the
// examples' pages import. CMake embeds the file at build time
// (cmake/FinchEmbedFile.cmake), so a binary serves the client it was built
// with, wherever it runs from.
#ifndef FINCH_EXAMPLES_COMMON_CLIENT_SCRIPT_HPP
#define FINCH_EXAMPLES_COMMON_CLIENT_SCRIPT_HPP

#include <finch_client_script.hpp>

#include <finch/http.hpp>

#include <optional>
#include <string_view>

namespace examples {

// The answer to `request` when it asks for the client, nothing otherwise.
inline std::optional<finch::Response> serveClientScript(const finch::Request& request)
{
    namespace http = boost::beast::http;
    const std::string_view target = request.target();
    if (target.substr(0, target.find('?')) != "/finch.js")
        return std::nullopt;
    if (request.method() != http::verb::get) {
        finch::Response refused{http::status::method_not_allowed, request.version()};
        refused.set(http::field::allow, "GET");
        return refused;
    }
    finch::Response response{http::status::ok, request.version()};
    // A module script: browsers refuse one served as anything but JavaScript.
    response.set(http::field::content_type, "text/javascript; charset=utf-8");
    // Revalidated on every load: a rebuilt example serves its new client at once.
    response.set(http::field::cache_control, "no-cache");
    response.body().assign(finchClientScript, finchClientScriptSize);
    return response;
}

}  // namespace examples

#endif
