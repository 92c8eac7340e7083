#ifndef FINCH_DETAIL_CLUSTER_NODE_TABLE_HPP
#define FINCH_DETAIL_CLUSTER_NODE_TABLE_HPP

#include <finch/detail/cluster/node_report.hpp>

#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace finch::detail {

// The other nodes of the cluster, by their last report, and the sums of
// their counts, kept up to date as reports come and go so that reading a
// cluster-wide count costs a lookup, not a pass over the nodes.
//
// Thread safety: every member takes the table's lock.
class NodeTable {
public:
    using Clock = std::chrono::steady_clock;

    void update(const std::string& node, NodeReport report, Clock::time_point now)
    {
        std::lock_guard lock(mutex_);
        auto& entry = nodes_[node];
        subtract(entry.report);
        entry.report = std::move(report);
        entry.seen = now;
        add(entry.report);
    }

    // Whether the node was known.
    bool remove(const std::string& node)
    {
        std::lock_guard lock(mutex_);
        const auto found = nodes_.find(node);
        if (found == nodes_.end())
            return false;
        subtract(found->second.report);
        nodes_.erase(found);
        return true;
    }

    // Forgets the nodes not heard of since `oldest`; returns how many.
    std::size_t expire(Clock::time_point oldest)
    {
        std::lock_guard lock(mutex_);
        std::size_t expired = 0;
        for (auto node = nodes_.begin(); node != nodes_.end();) {
            if (node->second.seen < oldest) {
                subtract(node->second.report);
                node = nodes_.erase(node);
                ++expired;
            } else {
                ++node;
            }
        }
        return expired;
    }

    bool contains(const std::string& node) const
    {
        std::lock_guard lock(mutex_);
        return nodes_.count(node) != 0;
    }

    std::size_t clients() const
    {
        std::lock_guard lock(mutex_);
        return clients_;
    }

    std::size_t room(std::string_view name) const
    {
        std::lock_guard lock(mutex_);
        const auto found = rooms_.find(std::string(name));
        return found == rooms_.end() ? 0 : found->second;
    }

    // How many users the other nodes report that `isLocal` does not hold.
    template <class IsLocal>
    std::size_t usersBeside(IsLocal&& isLocal) const
    {
        std::lock_guard lock(mutex_);
        std::size_t count = 0;
        for (const auto& user : users_)
            if (!isLocal(user.first))
                ++count;
        return count;
    }

    // The rooms the other nodes report, with their members there.
    std::unordered_map<std::string, std::size_t> rooms() const
    {
        std::lock_guard lock(mutex_);
        return rooms_;
    }

    std::vector<std::string> nodes() const
    {
        std::lock_guard lock(mutex_);
        std::vector<std::string> result;
        result.reserve(nodes_.size());
        for (const auto& node : nodes_)
            result.push_back(node.first);
        return result;
    }

private:
    struct Entry {
        NodeReport report;
        Clock::time_point seen;
    };

    void add(const NodeReport& report)
    {
        clients_ += report.clients;
        for (const auto& user : report.users)
            ++users_[user];
        for (const auto& room : report.rooms)
            rooms_[room.first] += room.second;
    }

    void subtract(const NodeReport& report)
    {
        clients_ -= report.clients;
        for (const auto& user : report.users) {
            const auto found = users_.find(user);
            if (found != users_.end() && --found->second == 0)
                users_.erase(found);
        }
        for (const auto& room : report.rooms) {
            const auto found = rooms_.find(room.first);
            if (found == rooms_.end())
                continue;
            found->second -= room.second;
            if (found->second == 0)
                rooms_.erase(found);
        }
    }

    mutable std::mutex mutex_;
    std::unordered_map<std::string, Entry> nodes_;
    std::size_t clients_ = 0;
    std::unordered_map<std::string, std::size_t> users_;  // user: the nodes that report it
    std::unordered_map<std::string, std::size_t> rooms_;  // room: its members on the other nodes
};

}  // namespace finch::detail

#endif
