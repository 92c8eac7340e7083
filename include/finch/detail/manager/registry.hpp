#ifndef FINCH_DETAIL_MANAGER_REGISTRY_HPP
#define FINCH_DETAIL_MANAGER_REGISTRY_HPP

#include <algorithm>
#include <functional>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace finch::detail {

// The open connections, by id and by user.
//
// Holds plain pointers: a connection adds itself once its upgrade succeeds and
// removes itself before it can be destroyed, so every pointer in here refers to
// a live object for as long as the lock is held. That keeps the registry out of
// the connections' lifetime (no reference cycle through the manager).
//
// Ids are keyed by a view of the connection's own id, which lives exactly as
// long as the entry. User ids are copied: a user's entry outlives any one of
// its connections.
// Visitors run under a shared lock: they must not block, must not call back
// into user code and must not add or remove connections.
//
// Connection needs `const std::string& id() const` and
// `const std::string& userId() const`; an empty user id means "no user".
template <class Connection>
class Registry {
public:
    // False once the registry is sealed: the manager is stopping, and a
    // connection that finishes its upgrade now must not be admitted.
    bool add(Connection& connection)
    {
        std::unique_lock lock(mutex_);
        if (sealed_)
            return false;
        clients_.emplace(connection.id(), &connection);
        if (!connection.userId().empty()) {
            auto& list = users_[connection.userId()];
            if (list.empty() && userWatcher_)
                userWatcher_(connection.userId(), true);
            list.push_back(&connection);
        }
        return true;
    }

    void remove(Connection& connection)
    {
        std::unique_lock lock(mutex_);
        if (clients_.erase(connection.id()) == 0)
            return;
        if (connection.userId().empty())
            return;
        const auto user = users_.find(connection.userId());
        if (user == users_.end())
            return;
        auto& list = user->second;
        list.erase(std::remove(list.begin(), list.end(), &connection), list.end());
        if (list.empty()) {
            if (userWatcher_)
                userWatcher_(user->first, false);
            users_.erase(user);
        }
    }

    // Calls `watcher(user, true)` for each user that has connections now, and
    // from now on when a user gets a first connection, and
    // `watcher(user, false)` when its last one ends; under the registry's
    // lock, so in that order. The watcher must not block or call back in.
    void watchUsers(std::function<void(const std::string& user, bool exists)> watcher)
    {
        std::unique_lock lock(mutex_);
        userWatcher_ = std::move(watcher);
        for (const auto& user : users_)
            userWatcher_(user.first, true);
    }

    // Seals the registry and visits everything still in it, atomically, so no
    // connection can slip in between the last visit and the seal.
    template <class Visitor>
    void sealAndVisit(Visitor&& visit)
    {
        std::unique_lock lock(mutex_);
        sealed_ = true;
        for (const auto& entry : clients_)
            visit(*entry.second);
    }

    std::size_t countClients() const
    {
        std::shared_lock lock(mutex_);
        return clients_.size();
    }

    std::size_t countUsers() const
    {
        std::shared_lock lock(mutex_);
        return users_.size();
    }

    // The distinct non-empty user ids.
    std::vector<std::string> userIds() const
    {
        std::shared_lock lock(mutex_);
        std::vector<std::string> result;
        result.reserve(users_.size());
        for (const auto& entry : users_)
            result.push_back(entry.first);
        return result;
    }

    bool hasUser(const std::string& userId) const
    {
        std::shared_lock lock(mutex_);
        return users_.count(userId) != 0;
    }

    std::vector<std::string> ids() const
    {
        std::shared_lock lock(mutex_);
        std::vector<std::string> result;
        result.reserve(clients_.size());
        for (const auto& entry : clients_)
            result.emplace_back(entry.first);
        return result;
    }

    template <class Visitor>
    void forEach(Visitor&& visit) const
    {
        std::shared_lock lock(mutex_);
        for (const auto& entry : clients_)
            visit(*entry.second);
    }

    // Returns whether the client was found.
    template <class Visitor>
    bool visitClient(std::string_view id, Visitor&& visit) const
    {
        std::shared_lock lock(mutex_);
        const auto found = clients_.find(id);
        if (found == clients_.end())
            return false;
        visit(*found->second);
        return true;
    }

    template <class Visitor>
    void forEachOfUser(std::string_view userId, Visitor&& visit) const
    {
        std::shared_lock lock(mutex_);
        const auto found = users_.find(std::string(userId));
        if (found == users_.end())
            return;
        for (Connection* connection : found->second)
            visit(*connection);
    }

private:
    mutable std::shared_mutex mutex_;
    bool sealed_ = false;
    std::unordered_map<std::string_view, Connection*> clients_;
    std::unordered_map<std::string, std::vector<Connection*>> users_;
    std::function<void(const std::string&, bool)> userWatcher_;
};

}  // namespace finch::detail

#endif
