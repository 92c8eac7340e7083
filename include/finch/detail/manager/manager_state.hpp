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
#include <memory>
#include <mutex>
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
    using socket_type = BasicSocket<Transport, UserData>;
    using event_type = BasicSocketEvent<socket_type>;
    using upgrade_handler_type = BasicAsyncUpgradeHandler<UserData>;

    ManagerState(boost::asio::any_io_executor executor_, event_type root_, Options options_)
        : executor(std::move(executor_))
        , root(std::move(root_))
        , options(std::move(options_))
        , slots(options.maxConnections)
        , incomingBudget(options.maxIncomingBytes)
    {
    }

    const boost::asio::any_io_executor executor;
    const event_type root;
    const Options options;
    ConnectionSlots slots;
    RouteTable<event_type> routes;
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
    void setUpgradeHandler(upgrade_handler_type handler)
    {
        auto shared = handler ? std::make_shared<const upgrade_handler_type>(std::move(handler)) : nullptr;
        std::lock_guard lock(httpMutex_);
        upgradeHandler_ = std::move(shared);
    }

    std::shared_ptr<const upgrade_handler_type> upgradeHandler() const
    {
        std::lock_guard lock(httpMutex_);
        return upgradeHandler_;
    }

private:
    std::shared_ptr<ClusterNode<Transport, UserData>> clusterOwner_;
    std::string nodeId_;
    std::atomic<ClusterNode<Transport, UserData>*> cluster_{nullptr};
    mutable std::mutex httpMutex_;  // also guards upgradeHandler_
    std::shared_ptr<const HttpHandler> httpHandler_;
    std::shared_ptr<const upgrade_handler_type> upgradeHandler_;
};

}  // namespace finch::detail

#endif
