#ifndef FINCH_DETAIL_MANAGER_ROUTE_TABLE_HPP
#define FINCH_DETAIL_MANAGER_ROUTE_TABLE_HPP

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>

namespace finch::detail {

// Maps a path to the event that handles it. Routes may be added while
// connections dispatch on other threads: a lookup hands out a shared pointer,
// so replacing a route never destroys an event whose handler is running.
template <class Event>
class RouteTable {
public:
    void set(std::string path, Event event)
    {
        auto shared = std::make_shared<const Event>(std::move(event));
        std::unique_lock lock(mutex_);
        routes_[std::move(path)] = std::move(shared);
    }

    std::shared_ptr<const Event> find(std::string_view path) const
    {
        std::shared_lock lock(mutex_);
        const auto found = routes_.find(path);
        return found == routes_.end() ? nullptr : found->second;
    }

    std::size_t size() const
    {
        std::shared_lock lock(mutex_);
        return routes_.size();
    }

private:
    mutable std::shared_mutex mutex_;
    std::map<std::string, std::shared_ptr<const Event>, std::less<>> routes_;
};

}  // namespace finch::detail

#endif
