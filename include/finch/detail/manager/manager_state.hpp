#ifndef FINCH_DETAIL_MANAGER_MANAGER_STATE_HPP
#define FINCH_DETAIL_MANAGER_MANAGER_STATE_HPP

#include <finch/detail/manager/connection_slots.hpp>
#include <finch/detail/manager/registry.hpp>
#include <finch/detail/manager/room_registry.hpp>
#include <finch/detail/manager/route_table.hpp>
#include <finch/detail/manager/session_set.hpp>
#include <finch/detail/websocket/incoming_budget.hpp>
#include <finch/http.hpp>
#include <finch/options.hpp>
#include <finch/socket_event.hpp>
#include <finch/upgrade.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace finch::detail {

template <class Transport, class UserData>
class Session;
template <class Transport, class UserData>
class HttpSession;
template <class Transport, class UserData>
class ClusterNode;

// What a manager shares with its connections and listeners. They hold it by
// shared pointer, so a completion handler that runs after the manager object
// is gone still finds valid state; `detached` then keeps it from calling user
// code that may refer to the destroyed manager.
template <class Transport, class UserData>
struct ManagerState {
    using SocketType = BasicSocket<Transport, UserData>;
    using EventType = BasicSocketEvent<SocketType>;
    using UpgradeHandlerType = BasicAsyncUpgradeHandler<UserData>;

    ManagerState(boost::asio::any_io_executor executor_, EventType root_, Options options_)
        : executor(std::move(executor_))
        , root(std::move(root_))
        , options(std::move(options_))
        , slots(options.maxConnections)
        , incomingBudget(options.maxIncomingBytes)
    {
    }

    const boost::asio::any_io_executor executor;
    const EventType root;
    const Options options;
    ConnectionSlots slots;
    RouteTable<EventType> routes;
    Registry<Session<Transport, UserData>> registry;
    RoomRegistry<Session<Transport, UserData>> rooms;
    SessionSet<HttpSession<Transport, UserData>> sessions;
    IncomingBudget incomingBudget;
    // Guards every session's list of end watchers (Session::holdUntilEnded):
    // only close() and stop() add to them, so one lock for all is enough.
    std::mutex watchersMutex;
    std::atomic<bool> detached{false};

    // The manager's part in a cluster, once it has joined one; null before.
    ClusterNode<Transport, UserData>* cluster() const noexcept { return cluster_.load(std::memory_order_acquire); }

    // Set once (BasicSocketManager::joinCluster); the node lives as long as
    // this state.
    void setCluster(std::shared_ptr<ClusterNode<Transport, UserData>> node, std::string nodeId)
    {
        clusterOwner_ = std::move(node);
        nodeId_ = std::move(nodeId);
        cluster_.store(clusterOwner_.get(), std::memory_order_release);
    }

    // What a new connection's id starts with: the node's id in a cluster
    // (so a send to one connection goes to its node only), else nothing.
    std::string_view idPrefix() const noexcept { return cluster() ? std::string_view(nodeId_) : std::string_view(); }

    void setHttpHandler(HttpHandler handler)
    {
        auto shared = handler ? std::make_shared<const HttpHandler>(std::move(handler)) : nullptr;
        std::lock_guard lock(httpMutex_);
        httpHandler_ = std::move(shared);
    }

    std::shared_ptr<const HttpHandler> httpHandler() const
    {
        std::lock_guard lock(httpMutex_);
        return httpHandler_;
    }

    // Synchronous handlers arrive wrapped in the asynchronous form.
    void setUpgradeHandler(UpgradeHandlerType handler)
    {
        auto shared = handler ? std::make_shared<const UpgradeHandlerType>(std::move(handler)) : nullptr;
        std::lock_guard lock(httpMutex_);
        upgradeHandler_ = std::move(shared);
    }

    std::shared_ptr<const UpgradeHandlerType> upgradeHandler() const
    {
        std::lock_guard lock(httpMutex_);
        return upgradeHandler_;
    }

    // Closes this node's connection `id` (a valid code and reason, checked
    // by the caller): whether this call started its close; nothing if this
    // node has no connection by that id.
    std::optional<bool> closeLocal(std::string_view id, std::uint16_t code, std::string_view reason)
    {
        std::shared_ptr<Session<Transport, UserData>> target;
        registry.visitClient(id, [&](Session<Transport, UserData>& connection) { target = connection.share(); });
        if (!target)
            return std::nullopt;
        return target->close(code, reason);
    }

private:
    std::shared_ptr<ClusterNode<Transport, UserData>> clusterOwner_;
    std::string nodeId_;
    std::atomic<ClusterNode<Transport, UserData>*> cluster_{nullptr};
    mutable std::mutex httpMutex_;  // also guards upgradeHandler_
    std::shared_ptr<const HttpHandler> httpHandler_;
    std::shared_ptr<const UpgradeHandlerType> upgradeHandler_;
};

}  // namespace finch::detail

#endif
