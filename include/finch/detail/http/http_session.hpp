#ifndef FINCH_DETAIL_HTTP_HTTP_SESSION_HPP
#define FINCH_DETAIL_HTTP_HTTP_SESSION_HPP

#include <finch/detail/deflate/deflate_offer.hpp>
#include <finch/detail/http/upgrade_target.hpp>
#include <finch/detail/manager/connection_slots.hpp>
#include <finch/detail/manager/manager_state.hpp>
#include <finch/detail/session/session.hpp>
#include <finch/detail/websocket/handshake.hpp>
#include <finch/http.hpp>
#include <finch/options.hpp>
#include <finch/subprotocol.hpp>
#include <finch/upgrade.hpp>

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <limits>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace finch::detail {

// A connection accepted by a manager's listener, before it is a WebSocket:
// reads one HTTP request through the transport, then either hands the
// transport to a Session (an upgrade on the endpoint's target that passes the
// manager's limits and the application's upgrade handler) or answers and
// closes. Also answers the requests that `requestHandle` refuses.
//
// Everything runs on the transport's strand. The request, the upgrade
// handler's decision and the answer share one deadline, set at the accept
// (Options::handshakeTimeout): a client that trickles its request, or an
// application that never decides, cannot hold the connection past it.
// Whether a transport has a handshake of its own below HTTP (TLS), bounded
// by limitHandshake(bytes).
template <class Transport, class = void>
constexpr bool limitsHandshake = false;
template <class Transport>
constexpr bool limitsHandshake<Transport,
    std::void_t<decltype(std::declval<Transport&>().limitHandshake(std::size_t{}))>> = true;

template <class Transport, class UserData>
class HttpSession : public std::enable_shared_from_this<HttpSession<Transport, UserData>> {
public:
    using State = ManagerState<Transport, UserData>;
    using DecisionType = BasicUpgradeDecision<UserData>;
    using CompletionType = BasicUpgradeCompletion<UserData>;
    using UpgradeHandlerType = BasicAsyncUpgradeHandler<UserData>;

    // `slot` is the connection's slot, or empty when the manager has none
    // left: the request is then read and answered 503. `target` is the
    // listener's WebSocket target; null for requestHandle().
    HttpSession(std::shared_ptr<State> state, Transport&& transport, std::shared_ptr<const std::string> target,
        ConnectionSlots::Lease slot)
        : transport_(std::move(transport))
        , state_(std::move(state))
        , target_(std::move(target))
        , slot_(std::move(slot))
    {
    }

    ~HttpSession() { state_->sessions.remove(this); }

    // Reads the request (listen()).
    void run()
    {
        if (!state_->sessions.add(this->shared_from_this()))
            return;  // the manager is stopping; the socket closes with this session
        boost::asio::post(transport_.get_executor(), [self = this->shared_from_this()] {
            // A TLS handshake is read like the request, and bounded like it.
            if constexpr (limitsHandshake<Transport>)
                self->transport_.limitHandshake(self->state_->options.maxHeaderBytes);
            self->armDeadline();
            self->read();
        });
    }

    // For requestHandle(): the application read `request` and hands it to
    // us; upgrade it or answer it as listen() would, except that the
    // application has decided already, so its upgrade handler is not asked.
    //
    // Tracked like the sessions of listen(), so that stop() ends it too. One
    // handed over after stop() is not: it upgrades and is closed with 1001
    // like any connection that completes its upgrade after stop(), or is
    // answered 426, within its deadline.
    void takeOver(Request request, std::string userId, UserData data)
    {
        state_->sessions.add(this->shared_from_this());
        boost::asio::post(transport_.get_executor(),
            [self = this->shared_from_this(), request = std::move(request), userId = std::move(userId),
                data = std::move(data)]() mutable {
                self->armDeadline();
                if (!boost::beast::websocket::is_upgrade(request))
                    return self->respond(upgradeRequired(request));
                self->upgrade(std::move(request), std::move(userId), std::move(data), false, std::nullopt);
            });
    }

    // Ends the session from any thread (the manager is stopping).
    void cancel()
    {
        boost::asio::post(transport_.get_executor(), [self = this->shared_from_this()] {
            // A decision still awaited will not be heard: the session ends now.
            self->abandoned_ = true;
            self->end();
        });
    }

private:
    // One deadline for the whole exchange, from the accept: the clock does
    // not restart when bytes trickle in.
    void armDeadline()
    {
        deadline_ = transport_.makeTimer();
        deadline_->expires_at(transport_.now() + state_->options.handshakeTimeout);
        deadline_->async_wait([self = this->shared_from_this()](boost::system::error_code ec) {
            if (!ec) {
                self->abandoned_ = true;  // a decision arriving now is ignored
                self->end();
            }
        });
    }

    // Closes the transport unless a Session has it; the pending operation
    // ends, and with it the last reference to this session.
    void end()
    {
        if (handedOver_)
            return;
        transport_.close();
        if (deadline_)
            deadline_->cancel();
    }

    void read()
    {
        parser_.header_limit(static_cast<std::uint32_t>(
            std::min<std::size_t>(state_->options.maxHeaderBytes, std::numeric_limits<std::uint32_t>::max())));
        parser_.eager(true);
        readMore();
    }

    // Parses what is buffered, reads more while it can, and waits when the
    // transport has nothing.
    void readMore()
    {
        namespace http = boost::beast::http;
        for (;;) {
            boost::system::error_code ec;
            // After need_more, Beast's parser wants new bytes: handed the
            // same ones again (the header and a cut chunk size, say) it
            // asserts. So what it has seen is parsed again only with more.
            // And in a chunked body it asserts when it comes back to the last
            // chunk's line with fewer than 5 bytes ("0\r\n" and a trailer's
            // start), so there it gets 5 at least: a whole message always
            // has them after any point of its body ("0\r\n\r\n"), so
            // waiting for them never holds one back.
            const bool chunkedTail = parser_.is_header_done() && parser_.chunked() && buffer_.size() < 5;
            if (buffer_.size() > 0 && !parserWantsMore_ && !chunkedTail) {
                const std::size_t used = parser_.put(buffer_.data(), ec);
                buffer_.consume(used);
                parserWantsMore_ = ec == http::error::need_more;
                if (parserWantsMore_)
                    ec = {};
                else if (ec)
                    return onRead(ec);
                if (parser_.is_done())
                    return onRead({});
                if (used > 0 && buffer_.size() > 0 && !parserWantsMore_)
                    continue;  // the header ended inside what was buffered: parse its rest
            }
            if (buffer_.size() >= bufferLimit)
                return onRead(http::error::header_limit);
            const std::size_t size =
                transport_.readSome(buffer_.prepare(std::min(readSize, bufferLimit - buffer_.size())), ec);
            if (ec == boost::asio::error::would_block) {
                transport_.asyncWaitReadable([self = this->shared_from_this()](boost::system::error_code waitError) {
                    if (waitError)
                        return;  // the deadline, stop(), or the peer: nothing to answer
                    self->readMore();
                });
                return;
            }
            if (ec == boost::asio::error::eof) {
                if (!parser_.got_some())
                    return end();  // connected and said nothing
                parser_.put_eof(ec);
                return onRead(
                    ec ? ec : (parser_.is_done() ? boost::system::error_code() : http::error::partial_message));
            }
            if (ec)
                return onRead(ec);
            buffer_.commit(size);
            parserWantsMore_ = false;
        }
    }

    void onRead(boost::system::error_code ec)
    {
        namespace http = boost::beast::http;
        if (ec == http::error::header_limit)
            return respond(
                plainResponse(11, http::status::request_header_fields_too_large, "Request Header Fields Too Large\n"));
        if (ec == http::error::body_limit)
            return respond(plainResponse(11, http::status::payload_too_large, "Payload Too Large\n"));
        if (isMalformed(ec))
            return respond(plainResponse(11, http::status::bad_request, "Bad Request\n"));
        if (ec)
            return end();  // cut short: nothing to answer
        Request request = parser_.release();
        if (!slot_)
            return respond(busy(request));
        const bool everyTarget = *target_ == "*";
        const bool isUpgrade = boost::beast::websocket::is_upgrade(request);
        if (everyTarget ? isUpgrade : targetMatches(request.target(), *target_)) {
            if (isUpgrade)
                return upgrade(std::move(request), std::string(), UserData{}, true, std::nullopt);
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
    // Origin check; then settles the subprotocol (`pick`: the handler's
    // choice, if it made one). On success the transport now belongs to a
    // Session that holds this connection's slot.
    void upgrade(
        Request request, std::string userId, UserData&& data, bool consultApplication, std::optional<std::string> pick)
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
        if (!slot_)
            slot_ = state_->slots.tryAcquire();  // requestHandle(): counted from here
        if (!slot_)
            return respond(busy(request));
        if (consultApplication)
            if (const auto handler = state_->upgradeHandler())
                return consult(*handler, std::move(request));
        // After the handler, which may choose a subprotocol the manager does
        // not list.
        std::string subprotocol;
        if (auto refusal = chooseSubprotocol(request, std::move(pick), subprotocol))
            return respond(std::move(*refusal));
        const DeflateAgreement deflate = negotiateCompression(request);
        // A client may send its first frames right behind the request.
        std::string received = boost::beast::buffers_to_string(buffer_.data());
        std::shared_ptr<Session<Transport, UserData>> session;
        try {
            session = std::make_shared<Session<Transport, UserData>>(state_, std::move(transport_), std::move(request),
                std::move(userId), std::move(data), std::move(subprotocol), deflate, std::move(slot_));
        } catch (...) {
            // No memory, or the application's data would not move: the
            // connection cannot be made. Whatever was moved into the half-built
            // session (the transport, the slot) went with it; what was not is
            // closed and given back with this session.
            return end();
        }
        handedOver_ = true;
        if (deadline_)
            deadline_->cancel();
        session->run(std::move(received), deflate.response);
    }

    // permessage-deflate, when the manager compresses: the first of the
    // client's offers it can accept, or none (never a refusal of the upgrade);
    // none for the browsers whose compression is known to be broken.
    DeflateAgreement negotiateCompression(const Request& request) const
    {
        const auto& codec = state_->options.compression;
        if (!codec || hasBrokenContextReset(request[boost::beast::http::field::user_agent]))
            return {};
        std::vector<std::string_view> offers;
        const auto [first, last] = request.equal_range(boost::beast::http::field::sec_websocket_extensions);
        for (auto field = first; field != last; ++field)
            offers.push_back(field->value());
        return negotiateDeflate(offers, codec->settings());
    }

    // The upgrade handler may decide at once or later, from any thread. It
    // may take its time (a database), but not past the request's deadline.
    void consult(const UpgradeHandlerType& handler, Request request)
    {
        waiting_ = std::move(request);
        // The deadline keeps the session alive, not the completion: a
        // decision that never comes, or comes after stop(), holds nothing up.
        CompletionType done([weak = std::weak_ptr<HttpSession>(this->shared_from_this()),
                                 executor = transport_.get_executor()](DecisionType decision) {
            if (auto self = weak.lock())
                boost::asio::post(executor, [self = std::move(self), decision = std::move(decision)]() mutable {
                    self->decide(std::move(decision));
                });
        });
        try {
            handler(*waiting_, done);
        } catch (...) {
            // Ignored if the handler decided before it threw.
            done(DecisionType::refuse(boost::beast::http::status::internal_server_error, "Internal Server Error\n"));
        }
    }

    void decide(DecisionType decision)
    {
        if (abandoned_)
            return;
        abandoned_ = true;  // one decision only
        if (!decision.accepted())
            return respond(refusal(*waiting_, decision));
        upgrade(std::move(*waiting_), decision.userId(), std::move(decision.data()), false, decision.subprotocol());
    }

    // Sets `chosen` to the connection's subprotocol (empty for none): the
    // upgrade handler's `pick` if it made one, else the first the client
    // offers of Options::subprotocols. A refusal instead when the pick was
    // not offered (500: the client would fail the handshake, RFC 6455 4.1),
    // or when nothing spoken was offered and Options say refuse (400).
    std::optional<Response> chooseSubprotocol(
        const Request& request, std::optional<std::string> pick, std::string& chosen) const
    {
        namespace http = boost::beast::http;
        const auto& spoken = state_->options.subprotocols;
        const auto& encodings = state_->options.encodings;
        const bool binaryEncodings = speaksBinaryEncoding(state_->options);
        if (!pick && spoken.empty() && !binaryEncodings)
            return std::nullopt;  // nothing to negotiate: spare the parsing
        const std::vector<std::string> offered = offeredSubprotocols(request);
        if (pick) {
            if (!pick->empty() && std::find(offered.begin(), offered.end(), *pick) == offered.end())
                return plainResponse(request, http::status::internal_server_error,
                    "Internal Server Error: the upgrade handler chose the subprotocol \"" + *pick +
                        "\", which the client did not offer (it offered: " + subprotocolList(offered) + ").\n");
            chosen = std::move(*pick);
            return std::nullopt;
        }
        if (binaryEncodings) {
            // finch.json, finch.msgpack, finch.cbor of the listed encodings
            // join the application's subprotocols; the client's order decides.
            std::vector<std::string> negotiable = spoken;
            for (const Encoding encoding : encodings)
                negotiable.emplace_back(subprotocolOf(encoding));
            chosen = firstSpoken(offered, negotiable);
        } else {
            chosen = firstSpoken(offered, spoken);
        }
        // The encodings alone never refuse: a client that offers none of
        // them gets JSON.
        if (chosen.empty() && !offered.empty() && !spoken.empty() &&
            state_->options.subprotocolMismatch == SubprotocolMismatch::refuse)
            return plainResponse(request, http::status::bad_request,
                "Unsupported subprotocol: the client offered " + subprotocolList(offered) + "; this server speaks " +
                    subprotocolList(spoken) + ".\n");
        return std::nullopt;
    }

    static Response refusal(const Request& request, const DecisionType& decision)
    {
        auto response = plainResponse(request, decision.status(), decision.body());
        for (const auto& field : decision.headers())
            response.set(field.first, field.second);
        return response;
    }

    static Response busy(const Request& request)
    {
        auto response =
            plainResponse(request, boost::beast::http::status::service_unavailable, "Too many connections\n");
        response.set(boost::beast::http::field::retry_after, "1");
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
        if (response.find(boost::beast::http::field::server) == response.end())
            response.set(boost::beast::http::field::server, "finch");
        response.keep_alive(false);
        response.prepare_payload();
        std::ostringstream out;
        out << response;
        answer_ = std::move(out).str();
        written_ = 0;
        writeAnswer();
    }

    // Writes the answer within the deadline (a client that does not read it
    // must not hold the connection either), then half-closes.
    void writeAnswer()
    {
        while (written_ < answer_.size()) {
            boost::system::error_code ec;
            written_ +=
                transport_.writeSome(boost::asio::buffer(answer_.data() + written_, answer_.size() - written_), ec);
            if (ec == boost::asio::error::would_block) {
                transport_.asyncWaitWritable([self = this->shared_from_this()](boost::system::error_code waitError) {
                    if (!waitError)
                        self->writeAnswer();
                });
                return;
            }
            if (ec)
                return end();
        }
        answer_.clear();
        answer_.shrink_to_fit();
        // Answered: what is left is politeness (below), so the slot goes
        // back now, before the client has even read the answer.
        slot_.release();
        transport_.shutdownSend();
        discardUntilEnd();
    }

    // Closing a socket that still holds unread bytes sends a reset, which can
    // destroy our answer before the client reads it (a 431 is sent while
    // the oversized header is still arriving). So read and discard what the
    // client sends until it closes too, within the deadline.
    void discardUntilEnd()
    {
        for (;;) {
            boost::system::error_code ec;
            transport_.readSome(boost::asio::buffer(discard_), ec);
            if (ec == boost::asio::error::would_block) {
                transport_.asyncWaitReadable([self = this->shared_from_this()](boost::system::error_code waitError) {
                    if (!waitError)
                        self->discardUntilEnd();
                });
                return;
            }
            if (ec)
                return end();
        }
    }

    // Read at most this much ahead of the parser: the header limit bounds
    // the header, and the body is parsed as it arrives.
    static constexpr std::size_t bufferLimit = 64 * 1024;
    // What one read asks for: a browser's upgrade request fits.
    static constexpr std::size_t readSize = 4096;

    Transport transport_;
    const std::shared_ptr<State> state_;
    const std::shared_ptr<const std::string> target_;
    ConnectionSlots::Lease slot_;
    boost::beast::flat_buffer buffer_;
    boost::beast::http::request_parser<boost::beast::http::string_body> parser_;
    std::string answer_;  // the response, serialized
    std::size_t written_ = 0;  // bytes of answer_ written
    std::array<char, 512> discard_;
    std::unique_ptr<typename Transport::TimerType> deadline_;
    std::optional<Request> waiting_;  // the request the upgrade handler is deciding on
    bool handedOver_ = false;  // transport_ now belongs to a Session
    bool abandoned_ = false;  // a decision arriving now is ignored
    bool parserWantsMore_ = false;  // the parser answered need_more to what is buffered
};

}  // namespace finch::detail

#endif
