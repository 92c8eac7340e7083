#ifndef FINCH_HTTP_HPP
#define FINCH_HTTP_HPP

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <functional>

namespace finch {

/// An HTTP request. For a socket, the request that opened it: its target
/// (`request.target()`, with the query string) and its headers
/// (`request[boost::beast::http::field::user_agent]`, `request["X-Custom"]`).
using Request = boost::beast::http::request<boost::beast::http::string_body>;

/// An HTTP response, as an `HttpHandler` returns it.
using Response = boost::beast::http::response<boost::beast::http::string_body>;

/// Answers the plain HTTP requests that reach a manager's listener on a target
/// other than its WebSocket target (a page, a health check). finch sets
/// `Content-Length` and `Connection: close` on the response and closes the
/// connection after writing it. An exception thrown here answers 500.
using HttpHandler = std::function<Response(const Request&)>;

}  // namespace finch

#endif
