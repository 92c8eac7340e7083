#ifndef FINCH_SOCKET_MANAGER_HPP
#define FINCH_SOCKET_MANAGER_HPP

#include <finch/backplane.hpp>
#include <finch/cluster.hpp>
#include <finch/error.hpp>
#include <finch/http.hpp>
#include <finch/options.hpp>
#include <finch/socket.hpp>
#include <finch/socket_event.hpp>
#include <finch/tcp_transport.hpp>
#include <finch/upgrade.hpp>
#include <finch/user_data.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace finch {

namespace detail {
template <class Transport, class UserData>
struct ManagerState;
template <class Transport, class UserData>
class Listener;
}  // namespace detail

/// Holds every WebSocket connection of a server and routes their messages.
///
/// A client sends text frames holding `{"path": "<route>", "data": ...}`; the
/// manager calls the `onMessage` of the route registered for that path, or the
/// root event's `onMessage` when no route matches. The server answers with
/// envelopes `{"path", "status", "timestamp", "data"}` through `Socket::send`
/// and the `sendTo...` members, which serialize a message once however many
/// connections receive it.
///
/// Connections come in two ways: `listen()` opens a port and upgrades the
/// requests for one target, after the application's upgrade handler, if it
/// set one, has admitted them; `requestHandle()` takes over an upgrade
/// request that the application's own HTTP server has read.
///
/// Connections may join named rooms (`Socket::join`); `sendToRoom` reaches the
/// members of one room, serialized once like `sendToAll`.
///
/// Managers in several processes, on one machine or several, form a cluster
/// once each has joined it (`joinCluster`): the `sendTo...` members then
/// reach the connections of every node, and the counts cover the cluster.
/// See `docs/cluster.md`.
///
/// @par Thread Safety
/// Every member function is safe to call from any thread, concurrently, and
/// from inside callbacks. The io_context may be run by several threads: each
/// connection's callbacks run on a strand of its own, so they never overlap.
/// No lock is held while a callback runs or while data is written.
///
/// @par Lifetime
/// Destroy the manager after the io_context has stopped running its handlers
/// (so that no callback of it is running) and before the io_context itself.
/// The destructor calls `stop()`, and from then on no callback runs, so a
/// callback never sees a destroyed manager.
///
/// @tparam Transport what every connection runs over, from its HTTP request
/// on: `finch::TcpTransport` (see the `SocketManager` alias). finch speaks
/// HTTP and WebSocket over it itself.
/// @tparam UserData the application's data kept inside each connection
/// (`Socket::data()`); default-constructible and move-constructible.
template <class Transport, class UserData = NoUserData>
class BasicSocketManager {
    static_assert(std::is_default_constructible_v<UserData>,
        "finch: UserData must be default-constructible; a connection that no upgrade handler gave data to starts "
        "with UserData{}");
    static_assert(std::is_move_constructible_v<UserData>,
        "finch: UserData must be move-constructible; the upgrade handler's decision moves it into the connection");
    static_assert(std::is_object_v<UserData> && !std::is_const_v<UserData> && !std::is_array_v<UserData>,
        "finch: UserData must be a plain object type (no reference, const or array)");

public:
    /// The type of `Socket::data()`.
    using UserDataType = UserData;
    /// The handle that callbacks receive.
    using SocketType = BasicSocket<Transport, UserData>;
    /// The callbacks of a route or of the root.
    using EventType = BasicSocketEvent<SocketType>;
    /// A table of routes, path to event.
    using Routes = std::map<std::string, EventType>;
    /// What an upgrade handler decides.
    using UpgradeDecisionType = BasicUpgradeDecision<UserData>;
    /// What an asynchronous upgrade handler calls with its decision.
    using UpgradeCompletionType = BasicUpgradeCompletion<UserData>;
    /// An upgrade handler that decides at once.
    using UpgradeHandlerType = BasicUpgradeHandler<UserData>;
    /// An upgrade handler that decides later.
    using AsyncUpgradeHandlerType = BasicAsyncUpgradeHandler<UserData>;

    /// @deprecated The old name of `UserDataType`; removed in the next release.
    using user_data_type [[deprecated("use UserDataType")]] = UserData;
    /// @deprecated The old name of `SocketType`; removed in the next release.
    using socket_type [[deprecated("use SocketType")]] = SocketType;
    /// @deprecated The old name of `EventType`; removed in the next release.
    using event_type [[deprecated("use EventType")]] = EventType;
    /// @deprecated The old name of `UpgradeDecisionType`; removed in the next release.
    using upgrade_decision_type [[deprecated("use UpgradeDecisionType")]] = UpgradeDecisionType;
    /// @deprecated The old name of `UpgradeCompletionType`; removed in the next release.
    using upgrade_completion_type [[deprecated("use UpgradeCompletionType")]] = UpgradeCompletionType;
    /// @deprecated The old name of `UpgradeHandlerType`; removed in the next release.
    using upgrade_handler_type [[deprecated("use UpgradeHandlerType")]] = UpgradeHandlerType;
    /// @deprecated The old name of `AsyncUpgradeHandlerType`; removed in the next release.
    using async_upgrade_handler_type [[deprecated("use AsyncUpgradeHandlerType")]] = AsyncUpgradeHandlerType;

    /// Creates a manager whose connections run on `executor`.
    /// @param executor the executor of an io_context: each connection gets a strand of it.
    /// @param root lifecycle callbacks of every connection, and the fallback `onMessage`.
    /// @param routes the initial routes; `addRoute` and `addEvents` add more later.
    /// @param options the manager's settings, fixed from here (`Options`).
    explicit BasicSocketManager(
        boost::asio::any_io_executor executor, EventType root = {}, Routes routes = {}, Options options = {});

    /// Creates a manager whose connections run on `context`.
    explicit BasicSocketManager(
        boost::asio::io_context& context, EventType root = {}, Routes routes = {}, Options options = {});

    /// Stops the manager (see `stop()`); no callback runs after this.
    ~BasicSocketManager();

    BasicSocketManager(const BasicSocketManager&) = delete;
    BasicSocketManager& operator=(const BasicSocketManager&) = delete;

    /// Adds or replaces the route for `path`. Safe while messages are being
    /// dispatched: a handler already running keeps the event it started with.
    void addRoute(std::string path, EventType event);

    /// Adds or replaces several routes at once (Finch's `addEvents`).
    void addEvents(Routes routes);

    /// Answers plain HTTP requests that reach `listen()`'s port on other
    /// targets than the WebSocket one (by default: 404). See `HttpHandler`.
    void setHttpHandler(HttpHandler handler);

    /// Lets `handler` decide on every WebSocket upgrade request that reaches
    /// `listen()`'s target, after the request is read and has passed the
    /// `Options` checks of its head and its Origin, and before 101 is
    /// answered (past `Options::maxConnections` the request was answered 503
    /// already: a connection holds its slot from the TCP accept). It admits
    /// the connection, as a user
    /// and with initial data that `onConnect` already sees, or refuses it with
    /// any HTTP status, body and headers (see `BasicUpgradeDecision`); a refused
    /// request never reaches a callback and never counts as a client. An
    /// exception answers 500. Requests given to `requestHandle()` do not go
    /// through it: the application has decided on those already.
    ///
    /// An accepting decision may choose the connection's subprotocol
    /// (`BasicUpgradeDecision::withSubprotocol`), which overrides
    /// `Options::subprotocols` and `Options::subprotocolMismatch`; one the
    /// client did not offer answers 500. Without a choice, the manager's
    /// `Options` settle it after the handler has accepted.
    ///
    /// The handler runs on an io_context thread; it must not block. Replaces
    /// the previous handler; an empty one removes it.
    void setUpgradeHandler(UpgradeHandlerType handler);

    /// As above, for a handler that decides later, from any thread, by
    /// calling its completion once (to ask a database, say). If no decision
    /// has come within `Options::handshakeTimeout` of the TCP accept, the
    /// connection is closed without an answer.
    void setUpgradeHandler(AsyncUpgradeHandlerType handler);

    /// Opens `endpoint`, and upgrades the WebSocket requests whose target path
    /// is `target` (a query string is allowed). On that target, a request that
    /// is not an upgrade gets 426 Upgrade Required; other targets get 404, or
    /// the answer of the `HttpHandler`. May be called more than once, for
    /// several endpoints.
    ///
    /// The target `"*"` upgrades WebSocket requests whatever their target;
    /// other requests go to the `HttpHandler`, or get 426 without one.
    ///
    /// Once `stop()` has begun, opens nothing and fails with
    /// `finch::ErrorCode::managerStopped`: a stopped manager stays stopped. A
    /// `listen()` concurrent with `stop()` on another thread either fails so,
    /// or opens its endpoint and has it closed by that `stop()`.
    /// @throws boost::system::system_error when the endpoint cannot be opened
    /// (the system's error), or with `finch::ErrorCode::managerStopped`.
    void listen(const boost::asio::ip::tcp::endpoint& endpoint, std::string target = "/ws");

    /// As above, reporting failure in `ec` instead of throwing: the system's
    /// error when the endpoint cannot be opened, `finch::ErrorCode::managerStopped`
    /// once `stop()` has begun; cleared on success.
    void listen(const boost::asio::ip::tcp::endpoint& endpoint, std::string target, boost::system::error_code& ec);

    /// Listens like `listen()` above, with connections whose transport is
    /// made as `Transport(socket, config)`: for `finch::TlsTransport`, `config`
    /// is a `std::shared_ptr<TlsContext>` and the port serves `wss://` (and
    /// `https://` through the `HttpHandler`). Takes part only for a transport
    /// that can be made so.
    /// @throws boost::system::system_error as `listen()` above.
    template <class TransportConfig,
        class = std::enable_if_t<
            std::is_constructible_v<Transport, typename Transport::SocketType&&, const TransportConfig&>>>
    void listen(const boost::asio::ip::tcp::endpoint& endpoint, std::string target, TransportConfig config);

    /// As above, reporting failure in `ec` instead of throwing.
    template <class TransportConfig,
        class = std::enable_if_t<
            std::is_constructible_v<Transport, typename Transport::SocketType&&, const TransportConfig&>>>
    void listen(const boost::asio::ip::tcp::endpoint& endpoint, std::string target, TransportConfig config,
        boost::system::error_code& ec);

    /// The port of the first successful `listen()`, useful after listening on
    /// port 0; 0 before that.
    unsigned short port() const;

    /// Takes over a TCP connection whose HTTP upgrade request the
    /// application has already read (Finch's `requestHandle`), answers it with
    /// 101 and runs the connection like one from `listen()`. A request that is
    /// not a WebSocket upgrade is answered with 426 and closed.
    /// @param socket the connection; no operation may be pending on it. It is
    /// moved to a strand of this manager's executor (its descriptor is
    /// released and adopted; if that fails, it is closed).
    /// @param request the upgrade request; its headers are copied.
    /// @param userId ties the connection to a user, for `sendToUser` and
    /// `countUsers`; empty for none.
    /// @param data the connection's initial `Socket::data()`.
    ///
    /// The upgrade handler (`setUpgradeHandler`) is not asked: the
    /// application that read the request has authenticated it already. The
    /// subprotocol follows `Options::subprotocols` and
    /// `Options::subprotocolMismatch`, as for `listen()`: the first offered
    /// one the manager speaks, or 400 when the client offered only others
    /// and the manager refuses them.
    template <class Body, class Fields>
    void requestHandle(boost::asio::ip::tcp::socket socket, const boost::beast::http::request<Body, Fields>& request,
        std::string userId = {}, UserData data = {});

    /// As above, for a `boost::beast::tcp_stream`.
    template <class Body, class Fields>
    void requestHandle(boost::beast::tcp_stream stream, const boost::beast::http::request<Body, Fields>& request,
        std::string userId = {}, UserData data = {});

    /// Another name for `requestHandle`.
    template <class Connection, class Body, class Fields>
    void accept(Connection&& connection, const boost::beast::http::request<Body, Fields>& request,
        std::string userId = {}, UserData data = {})
    {
        requestHandle(std::forward<Connection>(connection), request, std::move(userId), std::move(data));
    }

    /// Joins the cluster that `backplane` links (`finch::RedisBackplane`,
    /// say): from then on every `sendTo...` member also reaches the
    /// connections of the cluster's other nodes, `closeClient` closes a
    /// connection of any node, and `countClients`, `countUsers` and
    /// `countRoom` count the whole cluster. Each send is published once, as
    /// the envelope's JSON text, and each other node frames it once for its
    /// own receivers. See `docs/cluster.md` for what is guaranteed (in
    /// short: at most once; in order from one node to one room, user or
    /// connection).
    ///
    /// Call it once, before the first `listen()` or `requestHandle()`: the
    /// ids of the connections made afterwards start with the node's id, so
    /// that a send to one of them goes to its node only. `stop()` leaves the
    /// cluster and stops the backplane.
    /// @throws std::logic_error if the manager has joined a cluster, listens
    /// or has connections already; std::invalid_argument for a null backplane
    /// or an `app` or `nodeId` not of the documented form; `finch::ErrorCode::managerStopped`
    /// (as boost::system::system_error) once `stop()` has begun.
    void joinCluster(std::shared_ptr<Backplane> backplane, ClusterOptions options = {});

    /// This node's id in its cluster (`ClusterOptions::nodeId`); empty when
    /// the manager has not joined one.
    std::string nodeId() const;

    /// The number of open connections: of this manager, or of the whole
    /// cluster once it has joined one, where the other nodes' part is their
    /// last report (at most `ClusterOptions::reportInterval` old).
    std::size_t countClients() const;

    /// The number of distinct non-empty user ids among the open connections,
    /// of this manager or of the cluster, as `countClients`. A user with
    /// connections on several nodes counts once.
    std::size_t countUsers() const;

    /// `countClients` of this manager alone, in a cluster or not.
    std::size_t countLocalClients() const;

    /// `countUsers` of this manager alone, in a cluster or not.
    std::size_t countLocalUsers() const;

    /// The ids of this manager's open connections, in no particular order.
    std::vector<std::string> getAllClientsKeys() const;

    /// What `getAllClientsKeys` and `getRoomClients` call with the cluster's
    /// answer: the ids, and whether every node that had reported when it was
    /// asked has answered (false when the timeout came first: `ids` then
    /// holds the answers that came in time).
    using ClusterIdsHandler = std::function<void(std::vector<std::string> ids, bool complete)>;

    /// Asks every node of the cluster for the ids of its open connections,
    /// and calls `done` with all of them, once, on the manager's executor:
    /// when every node has answered, or after `timeout` with the answers
    /// that came. Without a cluster, it is called with this manager's ids.
    /// An exception thrown by `done` is caught and dropped. `done` does not
    /// run once the manager is destroyed.
    void getAllClientsKeys(ClusterIdsHandler done, std::chrono::milliseconds timeout = std::chrono::seconds(5)) const;

    /// This manager's open connection with this id, if there is one.
    std::optional<SocketType> getClient(std::string_view id) const;

    /// Sends to every open connection (of the cluster, once joined).
    /// @return how many of this manager's connections it was queued for:
    /// deliveries on other nodes are not counted.
    std::size_t sendToAll(const nlohmann::json& data, std::string_view path = {}, int status = 200);

    /// Sends to every open connection but `except`. @return as `sendToAll`.
    std::size_t sendToAllExcept(
        const SocketType& except, const nlohmann::json& data, std::string_view path = {}, int status = 200);

    /// Sends to the connection with this id, on this manager or, in a
    /// cluster, on the node the id names. @return whether it was queued
    /// here, or published to a node that has reported lately; false for an
    /// id of no open connection here and of no live node.
    bool sendToClient(std::string_view id, const nlohmann::json& data, std::string_view path = {}, int status = 200);

    /// Sends to every open connection of one user, on every node of the
    /// cluster once joined. @return as `sendToAll`.
    std::size_t sendToUser(
        std::string_view userId, const nlohmann::json& data, std::string_view path = {}, int status = 200);

    /// Sends to every member of `room` (see `Socket::join`), on every node of
    /// the cluster once joined, serializing the envelope once. Visits the
    /// room's members only, whatever the number of connections; a node
    /// without members of the room does not receive it. @return as
    /// `sendToAll`; 0 for a room without members here.
    std::size_t sendToRoom(
        std::string_view room, const nlohmann::json& data, std::string_view path = {}, int status = 200);

    /// Sends to every member of `room` but `except` (typically the author of
    /// a chat message). @return as `sendToAll`.
    std::size_t sendToRoomExcept(std::string_view room, const SocketType& except, const nlohmann::json& data,
        std::string_view path = {}, int status = 200);

    /// Closes the connection with this id, on this manager or, in a cluster,
    /// on the node the id names, as `Socket::close` does.
    /// @return whether it was closed here (false if it was closing already),
    /// or the close was published to a node that has reported lately; false
    /// for a `code` or `reason` that `Socket::close` refuses.
    bool closeClient(std::string_view id, CloseCode code = CloseCode::normal, std::string_view reason = {});

    /// @deprecated `closeClient` with Beast's close code type; use
    /// `finch::CloseCode` (the same numbers). Removed in the next release.
    [[deprecated("use finch::CloseCode")]] bool closeClient(
        std::string_view id, boost::beast::websocket::close_code code, std::string_view reason = {});

    /// The number of connections in `room`, of this manager or of the
    /// cluster, as `countClients`; 0 for a room without members.
    std::size_t countRoom(std::string_view room) const;

    /// `countRoom` of this manager alone, in a cluster or not.
    std::size_t countLocalRoom(std::string_view room) const;

    /// The ids of this manager's connections in `room`, in no particular order.
    std::vector<std::string> getRoomClients(std::string_view room) const;

    /// The ids of the members of `room` on every node of the cluster, as
    /// `getAllClientsKeys(done, timeout)` gathers the connections' ids.
    void getRoomClients(
        std::string_view room, ClusterIdsHandler done, std::chrono::milliseconds timeout = std::chrono::seconds(5)) const;

    /// The names of the rooms that have at least one member on this manager,
    /// in no particular order. A room exists while it has members.
    std::vector<std::string> rooms() const;

    /// Closes every open connection with 1001 Going Away, after the messages
    /// already queued for it. New connections are still accepted.
    ///
    /// Each connection has `Options::closeTimeout` to flush its queue and
    /// complete the closing handshake; then its TCP connection is dropped.
    /// @param onClosed runs once, on the manager's executor, once every
    /// connection that was open has ended and its `onDisconnect` has
    /// returned; no callback of those connections runs after it. If the
    /// io_context is destroyed before they have all ended, it never runs: it
    /// is destroyed with the io_context's other handlers.
    void close(std::function<void()> onClosed = {});

    /// Graceful shutdown: stops accepting (closes every listening port),
    /// ends the HTTP requests still being read, and closes every open
    /// connection with 1001 Going Away after its queued messages, waiting at
    /// most `Options::closeTimeout` for each. Each `onDisconnect` runs exactly
    /// once. Final: a stopped manager admits no connection again, and
    /// `listen()` fails with `finch::ErrorCode::managerStopped`.
    /// @param onStopped runs once, on the manager's executor, once every
    /// connection has ended, every `onDisconnect` has returned and no
    /// `HttpHandler` is running; nothing of this manager calls user code after
    /// it. An io_context that runs until it is out of work also returns then.
    /// If the io_context is destroyed before that, it never runs: it is
    /// destroyed with the io_context's other handlers.
    void stop(std::function<void()> onStopped = {});

private:
    template <class Factory>
    void listenWith(const boost::asio::ip::tcp::endpoint& endpoint, std::string target, Factory&& makeTransport,
        boost::system::error_code& ec);

    // Delivers to the connections `visit` gathers, then gives the
    // envelope's JSON text to `publish` in a cluster.
    template <class Visit, class Publish>
    std::size_t broadcast(
        Visit&& visit, Publish&& publish, const nlohmann::json& data, std::string_view path, int status);

    std::shared_ptr<detail::ManagerState<Transport, UserData>> state_;
    std::vector<std::shared_ptr<detail::Listener<Transport, UserData>>> listeners_;
    bool stopped_ = false;  // stop() has begun; guarded by listenersMutex_
    bool clustered_ = false;  // joinCluster() has run; guarded by listenersMutex_
    mutable std::mutex listenersMutex_;
};

/// The manager of plain TCP WebSocket connections.
using SocketManager = BasicSocketManager<TcpTransport>;

/// The manager of plain TCP WebSocket connections that keep a `UserData`
/// each (see `Socket::data()`).
template <class UserData>
using SocketManagerWith = BasicSocketManager<TcpTransport, UserData>;

}  // namespace finch

#include <finch/impl/socket_manager.hpp>

#endif
