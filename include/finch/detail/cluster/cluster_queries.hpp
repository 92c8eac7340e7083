#ifndef FINCH_DETAIL_CLUSTER_CLUSTER_QUERIES_HPP
#define FINCH_DETAIL_CLUSTER_CLUSTER_QUERIES_HPP

#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace finch::detail {

// The questions this node has asked the cluster (ids of all connections, or
// of a room's members) and not yet had every answer to. A query waits for
// the nodes that had reported when it was asked, not for whoever is
// subscribed: a node that died is not waited for beyond its report's age.
//
// Thread safety: every member takes the table's lock; the callbacks it
// hands back are called by the caller, outside it.
class ClusterQueries {
public:
    using Done = std::function<void(std::vector<std::string> ids, bool complete)>;

    // A query that has ended, and what to call with.
    struct Finished {
        Done done;
        std::vector<std::string> ids;
        bool complete = false;
    };

    void open(const std::string& id, std::vector<std::string> waitingFor, std::vector<std::string> ids, Done done)
    {
        std::lock_guard lock(mutex_);
        Query& query = queries_[id];
        query.waitingFor.insert(waitingFor.begin(), waitingFor.end());
        query.ids = std::move(ids);
        query.done = std::move(done);
    }

    // Adds `node`'s answer; the query, once every node it waited for has answered.
    std::optional<Finished> answer(const std::string& id, const std::string& node, std::vector<std::string> ids)
    {
        std::lock_guard lock(mutex_);
        const auto found = queries_.find(id);
        if (found == queries_.end() || found->second.waitingFor.erase(node) == 0)
            return std::nullopt;
        auto& collected = found->second.ids;
        collected.insert(collected.end(), std::make_move_iterator(ids.begin()), std::make_move_iterator(ids.end()));
        if (!found->second.waitingFor.empty())
            return std::nullopt;
        return take(found, true);
    }

    // Ends the query with what it has: its deadline has passed.
    std::optional<Finished> expire(const std::string& id)
    {
        std::lock_guard lock(mutex_);
        const auto found = queries_.find(id);
        if (found == queries_.end())
            return std::nullopt;
        return take(found, false);
    }

    std::size_t size() const
    {
        std::lock_guard lock(mutex_);
        return queries_.size();
    }

private:
    struct Query {
        std::set<std::string> waitingFor;
        std::vector<std::string> ids;
        Done done;
    };

    template <class Iterator>
    std::optional<Finished> take(Iterator found, bool complete)
    {
        Finished finished{std::move(found->second.done), std::move(found->second.ids), complete};
        queries_.erase(found);
        return finished;
    }

    mutable std::mutex mutex_;
    std::unordered_map<std::string, Query> queries_;
};

}  // namespace finch::detail

#endif
