#ifndef FINCH_DETAIL_MANAGER_ROOM_REGISTRY_HPP
#define FINCH_DETAIL_MANAGER_ROOM_REGISTRY_HPP

#include <cstddef>
#include <functional>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace finch::detail {

// The rooms of one manager: room name to its members. Joining and leaving
// cost a hash lookup each, and a room broadcast visits the room's members
// only, never the other connections.
//
// Holds plain pointers, as the Registry does: a connection adds itself while
// it is open and takes itself out of every room it is in before its
// onDisconnect and before it can be destroyed (its own RoomMembership says
// which), so every pointer in here refers to a live connection while the lock
// is held. An empty room is erased, so the number of rooms is bounded by the
// memberships.
//
// Visitors run under a shared lock: they must not block, must not call back
// into user code and must not join or leave.
//
// Connection needs `const std::string& id() const`.
template <class Connection>
class RoomRegistry {
public:
    // Whether `connection` was not in `room` yet.
    bool add(const std::string& room, Connection& connection)
    {
        std::unique_lock lock(mutex_);
        auto& members = rooms_[room];
        if (members.empty() && watcher_)
            watcher_(room, true);
        return members.insert(&connection).second;
    }

    // Whether `connection` was in `room`.
    bool remove(std::string_view room, Connection& connection)
    {
        std::unique_lock lock(mutex_);
        const auto found = rooms_.find(std::string(room));
        if (found == rooms_.end() || found->second.erase(&connection) == 0)
            return false;
        if (found->second.empty()) {
            if (watcher_)
                watcher_(found->first, false);
            rooms_.erase(found);
        }
        return true;
    }

    // Calls `watcher(room, true)` for each room that exists now, and from now
    // on when a room gets its first member, and `watcher(room, false)` when
    // its last one leaves; under the registry's lock, so in the order the
    // rooms came and went. The watcher must not block or call back in.
    void watch(std::function<void(const std::string& room, bool exists)> watcher)
    {
        std::unique_lock lock(mutex_);
        watcher_ = std::move(watcher);
        for (const auto& room : rooms_)
            watcher_(room.first, true);
    }

    template <class Visitor>
    void forEachIn(std::string_view room, Visitor&& visit) const
    {
        std::shared_lock lock(mutex_);
        const auto found = rooms_.find(std::string(room));
        if (found == rooms_.end())
            return;
        for (Connection* connection : found->second)
            visit(*connection);
    }

    std::size_t count(std::string_view room) const
    {
        std::shared_lock lock(mutex_);
        const auto found = rooms_.find(std::string(room));
        return found == rooms_.end() ? 0 : found->second.size();
    }

    // The ids of the members of `room`.
    std::vector<std::string> ids(std::string_view room) const
    {
        std::vector<std::string> result;
        std::shared_lock lock(mutex_);
        const auto found = rooms_.find(std::string(room));
        if (found == rooms_.end())
            return result;
        result.reserve(found->second.size());
        for (const Connection* connection : found->second)
            result.push_back(connection->id());
        return result;
    }

    // The rooms that have members.
    std::vector<std::string> names() const
    {
        std::vector<std::string> result;
        std::shared_lock lock(mutex_);
        result.reserve(rooms_.size());
        for (const auto& room : rooms_)
            result.push_back(room.first);
        return result;
    }

    // Each room with its number of members.
    std::unordered_map<std::string, std::size_t> counts() const
    {
        std::unordered_map<std::string, std::size_t> result;
        std::shared_lock lock(mutex_);
        result.reserve(rooms_.size());
        for (const auto& room : rooms_)
            result.emplace(room.first, room.second.size());
        return result;
    }

private:
    mutable std::shared_mutex mutex_;
    std::unordered_map<std::string, std::unordered_set<Connection*>> rooms_;
    std::function<void(const std::string&, bool)> watcher_;
};

}  // namespace finch::detail

#endif
