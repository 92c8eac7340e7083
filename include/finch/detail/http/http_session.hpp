#ifndef FINCH_DETAIL_HTTP_HTTP_SESSION_HPP
#define FINCH_DETAIL_HTTP_HTTP_SESSION_HPP

#include <finch/detail/session/session.hpp>
#include <finch/detail/manager/manager_state.hpp>
#include <finch/detail/http/upgrade_target.hpp>
#include <finch/http.hpp>
#include <finch/upgrade.hpp>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/version.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include <exception>
#include <memory>
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>

namespace finch::detail {

// A TCP connection accepted by a manager's listener, before it is a WebSocket:
// reads one HTTP request, then either hands the stream to a Connection (an
// upgrade on the endpoint's target that passes the manager's limits and the
// application's upgrade handler) or answers and closes. Also answers the
// requests that `requestHandle` refuses.
template <class Stream, class UserData>
class HttpSession : public std::enable_shared_from_this<HttpSession<Stream, UserData>> {
public:
    using decision_type = BasicUpgradeDecision<UserData>;
    using completion_type = BasicUpgradeCompletion<UserData>;
    using upgrade_handler_type = BasicAsyncUpgradeHandler<UserData>;

    HttpSession(std::shared_ptr<ManagerState<Stream, UserData>> state, Stream&& stream,
        std::shared_ptr<const std::string> target)
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
            // A decision still awaited will not be heard: the session ends now.
            self->abandoned_ = true;
            if (self->decisionTimer_)
                self->decisionTimer_->cancel();
        });
    }

    // For requestHandle(): the application read `request` and hands it to
    // us; upgrade it or answer it as listen() would, except that the
    // application has decided already, so its upgrade handler is not asked.
    void takeOver(Request request, std::string userId, UserData data)
    {
        boost::asio::post(stream_.get_executor(),
            [self = this->shared_from_this(), request = std::move(request), userId = std::move(userId),
                data = std::move(data)]() mutable {
                if (!boost::beast::websocket::is_upgrade(request))
                    return self->respond(upgradeRequired(request));
                self->upgrade(std::move(request), std::move(userId), std::move(data), false);
            });
    }

private:
    void read()
    {
        // A client that trickles its request in must not hold the slot forever:
        // the deadline is set once, not renewed by each byte.
        deadline_ = std::chrono::steady_clock::now() + state_->options.handshakeTimeout;
        boost::beast::get_lowest_layer(stream_).expires_after(state_->options.handshakeTimeout);
        parser_.header_limit(static_cast<std::uint32_t>(
            std::min<std::size_t>(state_->options.maxHeaderBytes, std::numeric_limits<std::uint32_t>::max())));
        boost::beast::http::async_read(stream_, buffer_, parser_,
            [self = this->shared_from_this()](boost::system::error_code ec, std::size_t) { self->onRead(ec); });
    }

    void onRead(boost::system::error_code ec)
    {
        namespace http = boost::beast::http;
        if (ec == http::error::header_limit)
            return respond(plainResponse(11, http::status::request_header_fields_too_large,
                "Request Header Fields Too Large\n"));
        if (ec == http::error::body_limit)
            return respond(plainResponse(11, http::status::payload_too_large, "Payload Too Large\n"));
        if (isMalformed(ec))
            return respond(plainResponse(11, http::status::bad_request, "Bad Request\n"));
        if (ec)
            return;  // timeout, reset, stop(): nothing to answer; the socket closes with this session
        Request request = parser_.release();
        const bool everyTarget = *target_ == "*";
        const bool isUpgrade = boost::beast::websocket::is_upgrade(request);
        if (everyTarget ? isUpgrade : targetMatches(request.target(), *target_)) {
            if (isUpgrade)
                return upgrade(std::move(request), std::string(), UserData{}, true);
            return respond(upgradeRequired(request));
        }
        if (const auto handler = state_->httpHandler())
            return respond(callHandler(*handler, request));
        if (everyTarget)
            return respond(upgradeRequired(request));
        return respond(plainResponse(request, boost::beast::http::status::not_found, "Not Found\n"));
    }

    // A request the parser refused, as opposed to one cut short by the peer.
    static bool isMalformed(boost::system::error_code ec)
    {
        namespace http = boost::beast::http;
        return ec.category() == make_error_code(http::error::bad_method).category() &&
            ec != http::error::end_of_stream && ec != http::error::partial_message;
    }

    // Applies the manager's admission rules, and lets the application's
    // upgrade handler (if any, and if `consultApplication`) decide after the
    // Origin check and before a slot is taken; on success the stream now
    // belongs to a Connection that holds one of the manager's slots.
    void upgrade(Request request, std::string userId, UserData data, bool consultApplication)
    {
        namespace http = boost::beast::http;
        if (const auto refusal = upgradeRefusal(request)) {
            auto response = plainResponse(request, *refusal,
                *refusal == http::status::upgrade_required ? "This server speaks WebSocket version 13.\n"
                                                           : "Bad WebSocket upgrade request\n");
            if (*refusal == http::status::upgrade_required) {
                response.set(http::field::upgrade, "websocket");
                response.set(http::field::sec_websocket_version, "13");
            }
            return respond(std::move(response));
        }
        if (!originAllowed(request))
            return respond(plainResponse(request, http::status::forbidden, "Origin not allowed\n"));
        if (consultApplication)
            if (const auto handler = state_->upgradeHandler())
                return consult(*handler, std::move(request));
        if (!state_->slots.tryAcquire()) {
            auto response = plainResponse(request, http::status::service_unavailable, "Too many connections\n");
            response.set(http::field::retry_after, "1");
            return respond(std::move(response));
        }
        handedOver_ = true;
        // A client may send its first frames right behind the request.
        std::string received = boost::beast::buffers_to_string(buffer_.data());
        std::make_shared<Session<Stream, UserData>>(state_,
            boost::beast::get_lowest_layer(stream_).release_socket(), std::move(request), std::move(userId),
            std::move(data), std::move(received))
            ->run();
    }

    // The upgrade handler may decide at once or later, from any thread. It
    // may take its time (a database), but not past the request's deadline: a
    // client must not hold a socket by being slow to authenticate, nor the
    // application by never answering.
    void consult(const upgrade_handler_type& handler, Request request)
    {
        waiting_ = std::move(request);
        decisionTimer_ = std::make_unique<boost::asio::steady_timer>(stream_.get_executor(), deadline_);
        decisionTimer_->async_wait([self = this->shared_from_this()](boost::system::error_code ec) {
            if (!ec)
                self->abandon();
        });
        // The timer keeps the session alive, not the completion: a decision
        // that never comes, or comes after stop(), holds nothing up.
        completion_type done([weak = std::weak_ptr<HttpSession>(this->shared_from_this()),
                                 executor = stream_.get_executor()](decision_type decision) {
            if (auto self = weak.lock())
                boost::asio::post(executor, [self = std::move(self), decision = std::move(decision)]() mutable {
                    self->decide(std::move(decision));
                });
        });
        try {
            handler(*waiting_, done);
        } catch (...) {
            // Ignored if the handler decided before it threw.
            done(decision_type::refuse(boost::beast::http::status::internal_server_error, "Internal Server Error\n"));
        }
    }

    void decide(decision_type decision)
    {
        if (abandoned_)
            return;
        abandoned_ = true;  // one decision only
        decisionTimer_->cancel();
        if (!decision.accepted())
            return respond(refusal(*waiting_, decision));
        upgrade(std::move(*waiting_), decision.userId(), std::move(decision.data()), false);
    }

    // No decision by the deadline: like a client that never finished its
    // request, the connection is closed without an answer.
    void abandon()
    {
        abandoned_ = true;
        boost::beast::get_lowest_layer(stream_).close();
    }

    static Response refusal(const Request& request, const decision_type& decision)
    {
        auto response = plainResponse(request, decision.status(), decision.body());
        for (const auto& field : decision.headers())
            response.set(field.first, field.second);
        return response;
    }

    bool originAllowed(const Request& request) const
    {
        const auto& allowed = state_->options.allowedOrigins;
        if (allowed.empty())
            return true;
        const auto origin = request.find(boost::beast::http::field::origin);
        if (origin == request.end())
            return true;  // not a browser: see Options::allowedOrigins
        return std::any_of(allowed.begin(), allowed.end(),
            [&](const std::string& candidate) { return boost::beast::iequals(candidate, origin->value()); });
    }

    static Response plainResponse(const Request& request, boost::beast::http::status status, std::string body)
    {
        return plainResponse(request.version(), status, std::move(body));
    }

    static Response plainResponse(unsigned version, boost::beast::http::status status, std::string body)
    {
        Response response{status, version};
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
            stream_, *response_, [self = this->shared_from_this()](boost::system::error_code ec, std::size_t) {
                if (ec)
                    return;
                boost::system::error_code ignored;
                boost::beast::get_lowest_layer(self->stream_)
                    .socket()
                    .shutdown(boost::asio::ip::tcp::socket::shutdown_send, ignored);
                self->discardUntilEnd();
            });
    }

    // Closing a socket that still holds unread bytes sends a reset, which can
    // destroy our answer before the client reads it (a 431 is sent while
    // the oversized header is still arriving). So read and discard what the
    // client sends until it closes too, within the deadline set in respond().
    void discardUntilEnd()
    {
        boost::beast::get_lowest_layer(stream_).async_read_some(boost::asio::buffer(discard_),
            [self = this->shared_from_this()](boost::system::error_code ec, std::size_t) {
                if (!ec)
                    self->discardUntilEnd();
            });
    }

    Stream stream_;
    boost::beast::flat_buffer buffer_;
    boost::beast::http::request_parser<boost::beast::http::string_body> parser_;
    std::optional<Response> response_;
    std::array<char, 512> discard_;
    const std::shared_ptr<ManagerState<Stream, UserData>> state_;
    const std::shared_ptr<const std::string> target_;
    bool handedOver_ = false;  // strand only: stream_ now belongs to a Connection
    std::chrono::steady_clock::time_point deadline_{};  // strand only: of the request, from the TCP accept
    std::optional<Request> waiting_;  // strand only: the request the upgrade handler is deciding on
    std::unique_ptr<boost::asio::steady_timer> decisionTimer_;  // strand only: made when the handler is asked
    bool abandoned_ = false;  // strand only: a decision arriving now is ignored
};

}  // namespace finch::detail

#endif
