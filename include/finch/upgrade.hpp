#ifndef FINCH_UPGRADE_HPP
#define FINCH_UPGRADE_HPP

#include <finch/http.hpp>
#include <finch/subprotocol.hpp>
#include <finch/user_data.hpp>

#include <boost/beast/http/status.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace finch {

/// What an upgrade handler (`BasicSocketManager::setUpgradeHandler`) decides
/// about one WebSocket upgrade request: admit it, as a user and with initial
/// data, or refuse it with an HTTP answer.
///
/// @code
/// manager.setUpgradeHandler([](const finch::Request& request) {
///     const auto token = request.find(boost::beast::http::field::authorization);
///     if (token == request.end())
///         return finch::UpgradeDecision::refuse(boost::beast::http::status::unauthorized, "log in first\n");
///     return finch::UpgradeDecision::accept(userOf(token->value()));
/// });
/// @endcode
///
/// A decision may also choose the connection's subprotocol
/// (`withSubprotocol`), among those the client offers (`offeredSubprotocols`):
///
/// @code
/// manager.setUpgradeHandler([](const finch::Request& request) {
///     const auto offered = finch::offeredSubprotocols(request);
///     const bool v2 = std::find(offered.begin(), offered.end(), "chat.v2") != offered.end();
///     return finch::UpgradeDecision::accept().withSubprotocol(v2 ? "chat.v2" : "");
/// });
/// @endcode
///
/// @par Thread Safety
/// A plain value: distinct objects may be used from different threads; one
/// object is not synchronized.
///
/// @tparam UserData the manager's per-connection data type (see `Socket::data()`).
template <class UserData = NoUserData>
class BasicUpgradeDecision {
public:
    /// Extra header fields of a refusal, as name and value.
    using Headers = std::vector<std::pair<std::string, std::string>>;

    /// Admits the connection: finch answers 101 (unless a limit of `Options`
    /// refuses it: 503 past `maxConnections`) and the connection starts with
    /// `userId` (see `Socket::userId()`, `sendToUser`) and `data` (see
    /// `Socket::data()`), which its `onConnect` already sees.
    static BasicUpgradeDecision accept(std::string userId = {}, UserData data = {});

    /// Refuses the connection: the client gets `status` (401, 403, 429 ...)
    /// with `body` as text/plain (unless `headers` sets another Content-Type)
    /// and `headers`, and the TCP connection is closed. No callback of the
    /// manager hears of it. Use a 4xx or 5xx status: anything else would
    /// confuse the client's handshake.
    static BasicUpgradeDecision refuse(boost::beast::http::status status, std::string body = {}, Headers headers = {});

    /// Chooses the connection's subprotocol (RFC 6455 1.9): the 101 answer
    /// carries `Sec-WebSocket-Protocol: <name>` and `Socket::subprotocol()`
    /// returns `name`. This overrides the manager's own choice from
    /// `Options::subprotocols`, and `Options::subprotocolMismatch` does not
    /// apply. An empty `name` accepts without a subprotocol, whatever the
    /// client offered and the manager speaks.
    ///
    /// @pre `name` is empty or one of the client's `offeredSubprotocols()`:
    /// a client fails a handshake whose answer names a subprotocol it did
    /// not offer (RFC 6455 4.1), so finch answers such a decision with 500
    /// and a body that names the subprotocol, instead of a 101 the client
    /// would drop. A programming error of the upgrade handler.
    /// @return this decision. Has no effect on a refusal.
    BasicUpgradeDecision& withSubprotocol(std::string name) &;

    /// @copydoc withSubprotocol
    BasicUpgradeDecision withSubprotocol(std::string name) &&;

    /// The subprotocol chosen with `withSubprotocol`; nothing when the
    /// decision leaves the choice to the manager (`Options::subprotocols`),
    /// and always nothing for a refusal.
    const std::optional<std::string>& subprotocol() const noexcept { return subprotocol_; }

    /// Whether this is an `accept`.
    bool accepted() const noexcept { return accepted_; }

    /// The user id of an `accept`; empty for a refusal.
    const std::string& userId() const noexcept { return userId_; }

    /// The initial data of an `accept` (finch moves it into the connection).
    UserData& data() noexcept { return data_; }

    /// The HTTP status of a refusal; 101 for an `accept`.
    boost::beast::http::status status() const noexcept { return status_; }

    /// The body of a refusal.
    const std::string& body() const noexcept { return body_; }

    /// The extra header fields of a refusal.
    const Headers& headers() const noexcept { return headers_; }

private:
    BasicUpgradeDecision(bool accepted, std::string userId, UserData data, boost::beast::http::status status,
        std::string body, Headers headers);

    bool accepted_ = false;
    std::string userId_;
    UserData data_{};
    boost::beast::http::status status_ = boost::beast::http::status::switching_protocols;
    std::string body_;
    Headers headers_;
    std::optional<std::string> subprotocol_;
};

/// The callable that an asynchronous upgrade handler calls, once, with its
/// decision, for authentication that has to wait for something (a database,
/// another service).
///
/// Copyable; may be called from any thread. Only the first call counts; later
/// ones are ignored. The client's request keeps its deadline: if no decision
/// has come within `Options::handshakeTimeout` of the TCP accept, the
/// connection is closed without an answer and a late decision is ignored.
template <class UserData = NoUserData>
class BasicUpgradeCompletion {
public:
    /// The decision type this completion takes.
    using DecisionType = BasicUpgradeDecision<UserData>;

    /// @deprecated The old name of `DecisionType`; removed in the next release.
    using decision_type [[deprecated("use DecisionType")]] = DecisionType;

    /// Delivers the decision; ignored after the first call.
    void operator()(DecisionType decision) const
    {
        if (state_ && !state_->called.exchange(true))
            state_->deliver(std::move(decision));
    }

    /// For finch's own use: `deliver` receives the first decision.
    explicit BasicUpgradeCompletion(std::function<void(DecisionType)> deliver)
        : state_(std::make_shared<State>(std::move(deliver)))
    {
    }

private:
    struct State {
        explicit State(std::function<void(DecisionType)> deliver_)
            : deliver(std::move(deliver_))
        {
        }
        std::atomic<bool> called{false};
        const std::function<void(DecisionType)> deliver;
    };

    std::shared_ptr<State> state_;
};

/// An upgrade handler that decides at once. It runs on an io_context thread,
/// so it must not block; an exception answers 500.
template <class UserData = NoUserData>
using BasicUpgradeHandler = std::function<BasicUpgradeDecision<UserData>(const Request&)>;

/// An upgrade handler that decides later, by calling its completion. An
/// exception thrown before the completion was called answers 500.
template <class UserData = NoUserData>
using BasicAsyncUpgradeHandler = std::function<void(const Request&, BasicUpgradeCompletion<UserData>)>;

/// The upgrade decision of `finch::SocketManager`.
using UpgradeDecision = BasicUpgradeDecision<>;
/// The completion of an asynchronous upgrade handler of `finch::SocketManager`.
using UpgradeCompletion = BasicUpgradeCompletion<>;
/// A synchronous upgrade handler of `finch::SocketManager`.
using UpgradeHandler = BasicUpgradeHandler<>;
/// An asynchronous upgrade handler of `finch::SocketManager`.
using AsyncUpgradeHandler = BasicAsyncUpgradeHandler<>;

}  // namespace finch

#include <finch/impl/upgrade.hpp>

#endif
