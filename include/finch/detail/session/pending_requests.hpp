#ifndef FINCH_DETAIL_SESSION_PENDING_REQUESTS_HPP
#define FINCH_DETAIL_SESSION_PENDING_REQUESTS_HPP

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

namespace finch::detail {

// The requests one connection has sent its client and not seen answered, by
// id. Ids count from 1 per connection (0 means "none"): the client only has
// to tell its own requests apart.
//
// Callable from any thread. Whoever takes an entry out (the answer, the
// timeout, the end of the connection) is the one who completes it, so each
// callback runs exactly once, whichever of them comes first. The timer is
// only stored here; it is touched on the connection's strand alone.
template <class Callback, class Timer>
class PendingRequests {
public:
    struct Entry {
        Callback callback;
        std::shared_ptr<Timer> timer;
    };

    // The new request's id, or 0 once closed; `callback` is taken only on success.
    std::uint64_t add(Callback& callback)
    {
        std::lock_guard lock(mutex_);
        if (closed_)
            return 0;
        const std::uint64_t id = ++lastId_;
        pending_.emplace(id, Entry{std::move(callback), nullptr});
        return id;
    }

    // False if the request is no longer pending: nothing left to time out.
    bool setTimer(std::uint64_t id, std::shared_ptr<Timer> timer)
    {
        std::lock_guard lock(mutex_);
        const auto found = pending_.find(id);
        if (found == pending_.end())
            return false;
        found->second.timer = std::move(timer);
        return true;
    }

    std::optional<Entry> take(std::uint64_t id)
    {
        std::lock_guard lock(mutex_);
        const auto found = pending_.find(id);
        if (found == pending_.end())
            return std::nullopt;
        Entry entry = std::move(found->second);
        pending_.erase(found);
        return entry;
    }

    // Refuses every request from now on; returns those still pending.
    std::vector<Entry> close()
    {
        std::vector<Entry> entries;
        std::lock_guard lock(mutex_);
        closed_ = true;
        entries.reserve(pending_.size());
        for (auto& item : pending_)
            entries.push_back(std::move(item.second));
        pending_.clear();
        return entries;
    }

    std::size_t size() const
    {
        std::lock_guard lock(mutex_);
        return pending_.size();
    }

private:
    mutable std::mutex mutex_;
    bool closed_ = false;
    std::uint64_t lastId_ = 0;
    std::unordered_map<std::uint64_t, Entry> pending_;
};

}  // namespace finch::detail

#endif
