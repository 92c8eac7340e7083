#ifndef FINCH_DETAIL_MANAGER_STATE_HPP
#define FINCH_DETAIL_MANAGER_STATE_HPP

#include <finch/detail/connection_slots.hpp>
#include <finch/detail/registry.hpp>
#include <finch/detail/route_table.hpp>
#include <finch/detail/session_set.hpp>
#include <finch/http.hpp>
#include <finch/options.hpp>
#include <finch/socket_event.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <atomic>
#include <memory>
#include <mutex>

namespace finch::detail {

template <class Stream>
class Connection;
template <class Stream>
class HttpSession;

// What a manager shares with its connections and listeners. They hold it by
// shared pointer, so a completion handler that runs after the manager object
// is gone still finds valid state; `detached` then keeps it from calling user
// code that may refer to the destroyed manager.
template <class Stream>
struct ManagerState {
    using socket_type = BasicSocket<Stream>;
    using event_type = BasicSocketEvent<socket_type>;

    ManagerState(boost::asio::any_io_executor executor_, event_type root_, Options options_)
        : executor(std::move(executor_))
        , root(std::move(root_))
        , options(std::move(options_))
        , slots(options.maxConnections)
    {
    }

    const boost::asio::any_io_executor executor;
    const event_type root;
    const Options options;
    ConnectionSlots slots;
    RouteTable<event_type> routes;
    Registry<Connection<Stream>> registry;
    SessionSet<HttpSession<Stream>> sessions;
    std::atomic<bool> detached{false};

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

private:
    mutable std::mutex httpMutex_;
    std::shared_ptr<const HttpHandler> httpHandler_;
};

}  // namespace finch::detail

#endif
