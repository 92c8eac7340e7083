#ifndef FINCH_DETAIL_SESSION_ROOM_MEMBERSHIP_HPP
#define FINCH_DETAIL_SESSION_ROOM_MEMBERSHIP_HPP

#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace finch::detail {

// The rooms one connection is in, and the joins and leaves its strand has not
// yet reported to onJoin and onLeave.
//
// join() and leave() may be called from any thread. Each calls `index` (the
// update of the manager's RoomRegistry) under this object's lock, and close()
// takes the connection out of the index under it too, so the two never
// disagree: a join that races with the end of the connection either comes
// before close(), which undoes it, or is refused.
//
// Changes are recorded in order and taken by the strand in batches; the first
// change of a batch tells its caller to schedule the strand's turn, so a burst
// of joins costs one post.
class RoomMembership {
public:
    struct Change {
        std::string room;
        bool joined;
    };

    struct Result {
        // Whether the membership changed.
        bool changed = false;
        // Whether the caller must have the strand take the recorded changes.
        bool schedule = false;
    };

    // `record`: whether anyone will be told of this change (the root has an onJoin).
    template <class Index>
    Result join(std::string room, bool record, Index&& index)
    {
        std::lock_guard lock(mutex_);
        if (closed_)
            return {};
        const auto [entry, inserted] = rooms_.insert(std::move(room));
        if (!inserted)
            return {};
        index(*entry);
        return {true, record && recordLocked(*entry, true)};
    }

    template <class Index>
    Result leave(std::string_view room, bool record, Index&& index)
    {
        std::lock_guard lock(mutex_);
        const auto entry = rooms_.find(room);
        if (entry == rooms_.end())
            return {};
        index(*entry);
        const bool schedule = record && recordLocked(*entry, false);
        rooms_.erase(entry);
        return {true, schedule};
    }

    std::vector<Change> takeChanges()
    {
        std::vector<Change> changes;
        std::lock_guard lock(mutex_);
        changes.swap(changes_);
        return changes;
    }

    // Refuses every join from now on and leaves every room, calling `unindex`
    // for each. Returns the changes not yet taken, then a leave for each room
    // the connection was still in: everything its strand has left to report.
    template <class Unindex>
    std::vector<Change> close(Unindex&& unindex)
    {
        std::vector<Change> changes;
        std::lock_guard lock(mutex_);
        closed_ = true;
        changes.swap(changes_);
        for (const std::string& room : rooms_) {
            unindex(room);
            changes.push_back({room, false});
        }
        rooms_.clear();
        return changes;
    }

    std::vector<std::string> names() const
    {
        std::lock_guard lock(mutex_);
        return {rooms_.begin(), rooms_.end()};
    }

    bool contains(std::string_view room) const
    {
        std::lock_guard lock(mutex_);
        return rooms_.find(room) != rooms_.end();
    }

private:
    // Whether this is the first change since the strand last took them.
    bool recordLocked(const std::string& room, bool joined)
    {
        changes_.push_back({room, joined});
        return changes_.size() == 1;
    }

    mutable std::mutex mutex_;
    bool closed_ = false;
    std::set<std::string, std::less<>> rooms_;
    std::vector<Change> changes_;
};

}  // namespace finch::detail

#endif
