#ifndef FINCH_DETAIL_HTTP_SESSION_HPP
#define FINCH_DETAIL_HTTP_SESSION_HPP

#include <finch/detail/connection.hpp>
#include <finch/detail/manager_state.hpp>
#include <finch/detail/upgrade_target.hpp>
#include <finch/http.hpp>

#include <boost/asio/post.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/version.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include <exception>
#include <memory>
#include <optional>
#include <string>

namespace finch::detail {

// A TCP connection accepted by a manager's listener, before it is a WebSocket:
// reads one HTTP request, then either hands the stream to a Connection (an
// upgrade on the endpoint's target) or answers and closes.
template <class Stream>
class HttpSession : public std::enable_shared_from_this<HttpSession<Stream>> {
public:
    HttpSession(std::shared_ptr<ManagerState<Stream>> state, Stream&& stream, std::shared_ptr<const std::string> target)
        : stream_(std::move(stream))
        , state_(std::move(state))
        , target_(std::move(target))
    {
    }

    ~HttpSession() { state_->sessions.remove(this); }

    void run()
    {
        if (!state_->sessions.add(this->shared_from_this()))
            return;  // the manager is stopping; the socket closes with this session
        boost::asio::post(stream_.get_executor(), [self = this->shared_from_this()] { self->read(); });
    }

    // Ends the session from any thread (the manager is stopping).
    void cancel()
    {
        boost::asio::post(stream_.get_executor(), [self = this->shared_from_this()] {
            if (!self->handedOver_)
                boost::beast::get_lowest_layer(self->stream_).close();
        });
    }

    // For requestHandle(): the application read a request that is not an
    // upgrade and handed it to us; answer it as listen() would.
    void refuseNonUpgrade(Request request)
    {
        boost::asio::post(stream_.get_executor(), [self = this->shared_from_this(), request = std::move(request)] {
            self->respond(upgradeRequired(request));
        });
    }

private:
    void read()
    {
        // A client that trickles its request in must not hold the slot forever.
        boost::beast::get_lowest_layer(stream_).expires_after(state_->options.handshakeTimeout);
        boost::beast::http::async_read(stream_, buffer_, parser_,
            [self = this->shared_from_this()](boost::system::error_code ec, std::size_t) { self->onRead(ec); });
    }

    void onRead(boost::system::error_code ec)
    {
        if (ec)
            return;  // nothing to answer; the socket closes with this session
        Request request = parser_.release();
        if (targetMatches(request.target(), *target_)) {
            if (boost::beast::websocket::is_upgrade(request)) {
                handedOver_ = true;
                std::make_shared<Connection<Stream>>(state_, std::move(stream_), std::move(request), std::string())
                    ->run();
                return;
            }
            return respond(upgradeRequired(request));
        }
        if (const auto handler = state_->httpHandler())
            return respond(callHandler(*handler, request));
        return respond(plainResponse(request, boost::beast::http::status::not_found, "Not Found\n"));
    }

    static Response plainResponse(const Request& request, boost::beast::http::status status, std::string body)
    {
        Response response{status, request.version()};
        response.set(boost::beast::http::field::content_type, "text/plain; charset=utf-8");
        response.body() = std::move(body);
        return response;
    }

    static Response upgradeRequired(const Request& request)
    {
        // RFC 7231 6.5.15: a 426 names the protocol to switch to.
        auto response = plainResponse(
            request, boost::beast::http::status::upgrade_required, "This endpoint only speaks WebSocket.\n");
        response.set(boost::beast::http::field::upgrade, "websocket");
        response.set(boost::beast::http::field::sec_websocket_version, "13");
        return response;
    }

    static Response callHandler(const HttpHandler& handler, const Request& request)
    {
        try {
            return handler(request);
        } catch (const std::exception&) {
        } catch (...) {
        }
        return plainResponse(request, boost::beast::http::status::internal_server_error, "Internal Server Error\n");
    }

    void respond(Response response)
    {
        response_ = std::move(response);
        if (response_->find(boost::beast::http::field::server) == response_->end())
            response_->set(boost::beast::http::field::server, "finch");
        response_->keep_alive(false);
        response_->prepare_payload();
        // A client that does not read its answer must not hold the slot either.
        boost::beast::get_lowest_layer(stream_).expires_after(state_->options.handshakeTimeout);
        boost::beast::http::async_write(
            stream_, *response_, [self = this->shared_from_this()](boost::system::error_code, std::size_t) {
                boost::system::error_code ignored;
                boost::beast::get_lowest_layer(self->stream_)
                    .socket()
                    .shutdown(boost::asio::ip::tcp::socket::shutdown_send, ignored);
            });
    }

    Stream stream_;
    boost::beast::flat_buffer buffer_;
    boost::beast::http::request_parser<boost::beast::http::string_body> parser_;
    std::optional<Response> response_;
    const std::shared_ptr<ManagerState<Stream>> state_;
    const std::shared_ptr<const std::string> target_;
    bool handedOver_ = false;  // strand only: stream_ now belongs to a Connection
};

}  // namespace finch::detail

#endif
