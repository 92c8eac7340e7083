#ifndef FINCH_IMPL_SOCKET_MANAGER_HPP
#define FINCH_IMPL_SOCKET_MANAGER_HPP

#include <finch/socket_manager.hpp>

#include <finch/detail/cluster/cluster_node.hpp>
#include <finch/detail/http/http_session.hpp>
#include <finch/detail/http/listener.hpp>
#include <finch/detail/manager/broadcast_envelope.hpp>
#include <finch/detail/manager/completion_guard.hpp>
#include <finch/detail/manager/manager_state.hpp>
#include <finch/detail/session/session.hpp>

#include <boost/asio/strand.hpp>
#include <boost/system/system_error.hpp>

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <memory>
#include <optional>
#include <vector>

namespace finch {

namespace detail {

// Moves a connection accepted elsewhere onto a strand of its own, so that its
// handlers never run concurrently even when the application's socket was
// bound to a multi-threaded io_context's plain executor. The descriptor is
// released and adopted; if it cannot be adopted, it is closed, not leaked.
template <class Socket>
Socket onOwnStrand(boost::asio::ip::tcp::socket socket, const boost::asio::any_io_executor& executor)
{
    Socket moved(boost::asio::make_strand(executor));
    if (!socket.is_open())
        return moved;
    boost::system::error_code ec;
    const auto protocol = socket.local_endpoint(ec).protocol();
    if (ec)
        return moved;
    const auto handle = socket.release(ec);
    if (ec)
        return moved;
    moved.assign(protocol, handle, ec);
    if (ec)
        ::close(handle);
    return moved;
}

// Makes `connection`, met in the registry (so it has not ended yet), hold
// `guard` until it has ended, if there is a guard.
template <class Connection>
void holdUntilEnded(Connection& connection, const std::shared_ptr<CompletionGuard>& guard)
{
    if (!guard)
        return;
    guard->hold();
    connection.holdUntilEnded(guard);
}

}  // namespace detail

template <class Transport, class UserData>
BasicSocketManager<Transport, UserData>::BasicSocketManager(
    boost::asio::any_io_executor executor, EventType root, Routes routes, Options options)
    : state_(std::make_shared<detail::ManagerState<Transport, UserData>>(
          std::move(executor), std::move(root), std::move(options)))
{
    addEvents(std::move(routes));
}

template <class Transport, class UserData>
BasicSocketManager<Transport, UserData>::BasicSocketManager(
    boost::asio::io_context& context, EventType root, Routes routes, Options options)
    : BasicSocketManager(context.get_executor(), std::move(root), std::move(routes), std::move(options))
{
}

template <class Transport, class UserData>
BasicSocketManager<Transport, UserData>::~BasicSocketManager()
{
    state_->detached = true;
    stop();
}

template <class Transport, class UserData>
void BasicSocketManager<Transport, UserData>::addRoute(std::string path, EventType event)
{
    state_->routes.set(std::move(path), std::move(event));
}

template <class Transport, class UserData>
void BasicSocketManager<Transport, UserData>::addEvents(Routes routes)
{
    for (auto& route : routes)
        state_->routes.set(route.first, std::move(route.second));
}

template <class Transport, class UserData>
void BasicSocketManager<Transport, UserData>::setHttpHandler(HttpHandler handler)
{
    state_->setHttpHandler(std::move(handler));
}

template <class Transport, class UserData>
void BasicSocketManager<Transport, UserData>::setUpgradeHandler(UpgradeHandlerType handler)
{
    if (!handler)
        return state_->setUpgradeHandler(nullptr);
    state_->setUpgradeHandler([handler = std::move(handler)](
                                  const Request& request, UpgradeCompletionType done) { done(handler(request)); });
}

template <class Transport, class UserData>
void BasicSocketManager<Transport, UserData>::setUpgradeHandler(AsyncUpgradeHandlerType handler)
{
    state_->setUpgradeHandler(std::move(handler));
}

template <class Transport, class UserData>
void BasicSocketManager<Transport, UserData>::listen(const boost::asio::ip::tcp::endpoint& endpoint, std::string target)
{
    boost::system::error_code ec;
    listen(endpoint, std::move(target), ec);
    if (ec)
        throw boost::system::system_error(ec, "finch: cannot listen");
}

template <class Transport, class UserData>
void BasicSocketManager<Transport, UserData>::listen(
    const boost::asio::ip::tcp::endpoint& endpoint, std::string target, boost::system::error_code& ec)
{
    listenWith(endpoint, std::move(target), [](typename Transport::SocketType&& socket) {
        return Transport(std::move(socket));
    }, ec);
}

template <class Transport, class UserData>
template <class TransportConfig, class>
void BasicSocketManager<Transport, UserData>::listen(
    const boost::asio::ip::tcp::endpoint& endpoint, std::string target, TransportConfig config)
{
    boost::system::error_code ec;
    listen(endpoint, std::move(target), std::move(config), ec);
    if (ec)
        throw boost::system::system_error(ec, "finch: cannot listen");
}

template <class Transport, class UserData>
template <class TransportConfig, class>
void BasicSocketManager<Transport, UserData>::listen(const boost::asio::ip::tcp::endpoint& endpoint,
    std::string target, TransportConfig config, boost::system::error_code& ec)
{
    listenWith(endpoint, std::move(target),
        [config = std::move(config)](typename Transport::SocketType&& socket) {
            return Transport(std::move(socket), config);
        },
        ec);
}

template <class Transport, class UserData>
template <class Factory>
void BasicSocketManager<Transport, UserData>::listenWith(
    const boost::asio::ip::tcp::endpoint& endpoint, std::string target, Factory&& makeTransport,
    boost::system::error_code& ec)
{
    // The whole of it under the lock that stop() takes to stop the listeners:
    // a listen() on another thread either comes first, and its listener is
    // stopped with the others, or comes after stop() and opens nothing.
    std::lock_guard lock(listenersMutex_);
    if (stopped_) {
        ec = ErrorCode::managerStopped;
        return;
    }
    auto listener = std::make_shared<detail::Listener<Transport, UserData>>(
        state_, std::move(target), std::forward<Factory>(makeTransport));
    ec = listener->open(endpoint);
    if (ec)
        return;
    listeners_.push_back(listener);
    listener->run();
}

template <class Transport, class UserData>
unsigned short BasicSocketManager<Transport, UserData>::port() const
{
    std::lock_guard lock(listenersMutex_);
    return listeners_.empty() ? 0 : listeners_.front()->localEndpoint().port();
}

template <class Transport, class UserData>
template <class Body, class Fields>
void BasicSocketManager<Transport, UserData>::requestHandle(boost::asio::ip::tcp::socket socket,
    const boost::beast::http::request<Body, Fields>& request, std::string userId, UserData data)
{
    // Only the start line and headers matter to an upgrade; the body is dropped.
    Request copy;
    copy.method_string(request.method_string());
    copy.target(request.target());
    copy.version(request.version());
    for (const auto& field : request)
        copy.insert(field.name_string(), field.value());

    // The session applies the same rules and answers as for listen(); it
    // takes a connection slot when it upgrades.
    Transport transport(detail::onOwnStrand<typename Transport::SocketType>(std::move(socket), state_->executor));
    std::make_shared<detail::HttpSession<Transport, UserData>>(
        state_, std::move(transport), nullptr, detail::ConnectionSlots::Lease())
        ->takeOver(std::move(copy), std::move(userId), std::move(data));
}

template <class Transport, class UserData>
template <class Body, class Fields>
void BasicSocketManager<Transport, UserData>::requestHandle(boost::beast::tcp_stream stream,
    const boost::beast::http::request<Body, Fields>& request, std::string userId, UserData data)
{
    requestHandle(stream.release_socket(), request, std::move(userId), std::move(data));
}

template <class Transport, class UserData>
void BasicSocketManager<Transport, UserData>::joinCluster(std::shared_ptr<Backplane> backplane, ClusterOptions options)
{
    if (!backplane)
        throw std::invalid_argument("finch: joinCluster needs a backplane");
    const auto isNameCharacter = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
            c == '.';
    };
    if (options.app.empty() || options.app.size() > 64 ||
        !std::all_of(options.app.begin(), options.app.end(), isNameCharacter))
        throw std::invalid_argument("finch: ClusterOptions::app must be 1 to 64 letters, digits, '-', '_' or '.'");
    const auto isHexDigit = [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); };
    if (options.nodeId.empty())
        options.nodeId = detail::newSocketId().substr(0, 8);
    if (options.nodeId.size() != 8 || !std::all_of(options.nodeId.begin(), options.nodeId.end(), isHexDigit))
        throw std::invalid_argument("finch: ClusterOptions::nodeId must be 8 lowercase hexadecimal digits");
    if (options.nodeTimeout < 2 * options.reportInterval || options.reportInterval.count() <= 0)
        throw std::invalid_argument("finch: ClusterOptions::nodeTimeout must be at least twice reportInterval");

    std::lock_guard lock(listenersMutex_);
    if (stopped_)
        throw boost::system::system_error(ErrorCode::managerStopped, "finch: cannot join a cluster");
    if (clustered_ || !listeners_.empty() || state_->registry.countClients() != 0)
        throw std::logic_error("finch: joinCluster must come once, before listen() and requestHandle()");
    clustered_ = true;
    std::string nodeId = options.nodeId;
    auto node = std::make_shared<detail::ClusterNode<Transport, UserData>>(
        state_, state_->executor, std::move(backplane), std::move(options));
    state_->setCluster(node, std::move(nodeId));
    node->start(*state_);
}

template <class Transport, class UserData>
std::string BasicSocketManager<Transport, UserData>::nodeId() const
{
    const auto* const cluster = state_->cluster();
    return cluster ? cluster->nodeId() : std::string();
}

template <class Transport, class UserData>
std::size_t BasicSocketManager<Transport, UserData>::countClients() const
{
    const auto* const cluster = state_->cluster();
    return state_->registry.countClients() + (cluster ? cluster->others().clients() : 0);
}

template <class Transport, class UserData>
std::size_t BasicSocketManager<Transport, UserData>::countUsers() const
{
    const auto* const cluster = state_->cluster();
    const std::size_t local = state_->registry.countUsers();
    if (!cluster)
        return local;
    return local + cluster->others().usersBeside([&](const std::string& user) { return state_->registry.hasUser(user); });
}

template <class Transport, class UserData>
std::size_t BasicSocketManager<Transport, UserData>::countLocalClients() const
{
    return state_->registry.countClients();
}

template <class Transport, class UserData>
std::size_t BasicSocketManager<Transport, UserData>::countLocalUsers() const
{
    return state_->registry.countUsers();
}

template <class Transport, class UserData>
std::vector<std::string> BasicSocketManager<Transport, UserData>::getAllClientsKeys() const
{
    return state_->registry.ids();
}

template <class Transport, class UserData>
void BasicSocketManager<Transport, UserData>::getAllClientsKeys(
    ClusterIdsHandler done, std::chrono::milliseconds timeout) const
{
    auto* const cluster = state_->cluster();
    if (!cluster)
        return detail::postQueryResult(std::weak_ptr(state_), state_->executor,
            detail::ClusterQueries::Finished{std::move(done), state_->registry.ids(), true});
    cluster->ask("clients", state_->registry.ids(), std::move(done), timeout, state_->executor);
}

template <class Transport, class UserData>
void BasicSocketManager<Transport, UserData>::getRoomClients(
    std::string_view room, ClusterIdsHandler done, std::chrono::milliseconds timeout) const
{
    auto* const cluster = state_->cluster();
    if (!cluster)
        return detail::postQueryResult(std::weak_ptr(state_), state_->executor,
            detail::ClusterQueries::Finished{std::move(done), state_->rooms.ids(room), true});
    cluster->ask("room:" + std::string(room), state_->rooms.ids(room), std::move(done), timeout, state_->executor);
}

template <class Transport, class UserData>
auto BasicSocketManager<Transport, UserData>::getClient(std::string_view id) const -> std::optional<SocketType>
{
    std::optional<SocketType> found;
    state_->registry.visitClient(id, [&](detail::Session<Transport, UserData>& connection) {
        if (auto alive = connection.share())
            found.emplace(std::move(alive));
    });
    return found;
}

template <class Transport, class UserData>
template <class Visit, class Publish>
std::size_t BasicSocketManager<Transport, UserData>::broadcast(
    Visit&& visit, Publish&& publish, const nlohmann::json& data, std::string_view path, int status)
{
    // Serialized and framed once per encoding in use, outside any lock.
    detail::BroadcastEnvelope envelope(state_->options, path, status, nowMilliseconds(), data);
    const std::size_t queued = envelope.sendToEach<detail::Session<Transport, UserData>>(visit);
    // After the local receivers: they are not kept waiting for the
    // backplane, and the other nodes get the JSON frame's own bytes.
    if (auto* const cluster = state_->cluster())
        publish(*cluster, envelope.jsonText());
    return queued;
}

template <class Transport, class UserData>
std::size_t BasicSocketManager<Transport, UserData>::sendToAll(
    const nlohmann::json& data, std::string_view path, int status)
{
    return broadcast([&](auto&& deliver) { state_->registry.forEach(deliver); },
        [](auto& cluster, std::string_view envelope) { cluster.publishAll(envelope); }, data, path, status);
}

template <class Transport, class UserData>
std::size_t BasicSocketManager<Transport, UserData>::sendToAllExcept(
    const SocketType& except, const nlohmann::json& data, std::string_view path, int status)
{
    const std::string& skipped = except.id();
    return broadcast(
        [&](auto&& deliver) {
            state_->registry.forEach([&](detail::Session<Transport, UserData>& connection) {
                if (connection.id() != skipped)
                    deliver(connection);
            });
        },
        // `except` is a connection of this node: the others have nothing to skip.
        [](auto& cluster, std::string_view envelope) { cluster.publishAll(envelope); }, data, path, status);
}

template <class Transport, class UserData>
bool BasicSocketManager<Transport, UserData>::sendToClient(
    std::string_view id, const nlohmann::json& data, std::string_view path, int status)
{
    std::shared_ptr<detail::Session<Transport, UserData>> target;
    state_->registry.visitClient(
        id, [&](detail::Session<Transport, UserData>& connection) { target = connection.share(); });
    if (target)
        return target->send(data, path, status);
    auto* const cluster = state_->cluster();
    if (!cluster || cluster->remoteNodeOf(id).empty())
        return false;
    // As JSON text: the receiver's node frames it in the receiver's encoding.
    return cluster->publishClient(id, encodeEnvelope(state_->options.envelope, path, status, nowMilliseconds(), data));
}

template <class Transport, class UserData>
std::size_t BasicSocketManager<Transport, UserData>::sendToUser(
    std::string_view userId, const nlohmann::json& data, std::string_view path, int status)
{
    return broadcast([&](auto&& deliver) { state_->registry.forEachOfUser(userId, deliver); },
        [&](auto& cluster, std::string_view envelope) { cluster.publishUser(userId, envelope); }, data, path, status);
}

template <class Transport, class UserData>
std::size_t BasicSocketManager<Transport, UserData>::sendToRoom(
    std::string_view room, const nlohmann::json& data, std::string_view path, int status)
{
    return broadcast([&](auto&& deliver) { state_->rooms.forEachIn(room, deliver); },
        [&](auto& cluster, std::string_view envelope) { cluster.publishRoom(room, envelope); }, data, path, status);
}

template <class Transport, class UserData>
std::size_t BasicSocketManager<Transport, UserData>::sendToRoomExcept(
    std::string_view room, const SocketType& except, const nlohmann::json& data, std::string_view path, int status)
{
    const std::string& skipped = except.id();
    return broadcast(
        [&](auto&& deliver) {
            state_->rooms.forEachIn(room, [&](detail::Session<Transport, UserData>& connection) {
                if (connection.id() != skipped)
                    deliver(connection);
            });
        },
        [&](auto& cluster, std::string_view envelope) { cluster.publishRoom(room, envelope); }, data, path, status);
}

template <class Transport, class UserData>
bool BasicSocketManager<Transport, UserData>::closeClient(
    std::string_view id, CloseCode code, std::string_view reason)
{
    const auto value = static_cast<std::uint16_t>(code);
    if (!detail::isValidClose(value, reason))
        return false;
    if (const auto closed = state_->closeLocal(id, value, reason))
        return *closed;
    auto* const cluster = state_->cluster();
    return cluster && cluster->publishClose(id, value, reason);
}

template <class Transport, class UserData>
bool BasicSocketManager<Transport, UserData>::closeClient(
    std::string_view id, boost::beast::websocket::close_code code, std::string_view reason)
{
    return closeClient(id, static_cast<CloseCode>(code), reason);
}

template <class Transport, class UserData>
std::size_t BasicSocketManager<Transport, UserData>::countRoom(std::string_view room) const
{
    const auto* const cluster = state_->cluster();
    return state_->rooms.count(room) + (cluster ? cluster->others().room(room) : 0);
}

template <class Transport, class UserData>
std::size_t BasicSocketManager<Transport, UserData>::countLocalRoom(std::string_view room) const
{
    return state_->rooms.count(room);
}

template <class Transport, class UserData>
std::vector<std::string> BasicSocketManager<Transport, UserData>::getRoomClients(std::string_view room) const
{
    return state_->rooms.ids(room);
}

template <class Transport, class UserData>
std::vector<std::string> BasicSocketManager<Transport, UserData>::rooms() const
{
    return state_->rooms.names();
}

template <class Transport, class UserData>
void BasicSocketManager<Transport, UserData>::close(std::function<void()> onClosed)
{
    // Every connection holds the guard until it has ended; the last one to
    // let go lets onClosed run.
    const auto guard = detail::CompletionGuard::make(state_->executor, std::move(onClosed));
    state_->registry.forEach([&](detail::Session<Transport, UserData>& connection) {
        connection.close(detail::closeCode::goingAway, {});
        detail::holdUntilEnded(connection, guard);
    });
    if (guard)
        guard->release();  // make()'s hold: every connection has its own now
}

template <class Transport, class UserData>
void BasicSocketManager<Transport, UserData>::stop(std::function<void()> onStopped)
{
    const auto guard = detail::CompletionGuard::make(state_->executor, std::move(onStopped));
    {
        std::lock_guard lock(listenersMutex_);
        stopped_ = true;
        for (const auto& listener : listeners_)
            listener->stop();
    }
    // Sessions may be running the HttpHandler: the guard waits for them too.
    state_->sessions.closeAll([](detail::HttpSession<Transport, UserData>& session) { session.cancel(); }, guard);
    state_->registry.sealAndVisit([&](detail::Session<Transport, UserData>& connection) {
        connection.close(detail::closeCode::goingAway, {});
        detail::holdUntilEnded(connection, guard);
    });
    // The other nodes forget this one at once, and the backplane's
    // connections end, so an io_context that runs until it is out of work
    // returns.
    if (auto* const cluster = state_->cluster())
        cluster->stop(guard);
    if (guard)
        guard->release();  // make()'s hold: everyone waited for has one of their own now
}

}  // namespace finch

#endif
