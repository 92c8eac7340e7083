#ifndef FINCH_DETAIL_MANAGER_SESSION_SET_HPP
#define FINCH_DETAIL_MANAGER_SESSION_SET_HPP

#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace finch::detail {

// The HTTP sessions still reading their upgrade request. `stop()` must end
// them too: otherwise an idle TCP connection (a browser's preconnect, a slow
// client) would keep the io_context busy until its handshake timeout.
template <class Session>
class SessionSet {
public:
    // False once the set is closed: the caller should end the session at once.
    bool add(const std::shared_ptr<Session>& session)
    {
        std::lock_guard lock(mutex_);
        if (closed_)
            return false;
        live_.emplace(session.get(), session);
        return true;
    }

    void remove(const Session* session)
    {
        std::vector<std::shared_ptr<void>> released;
        {
            std::lock_guard lock(mutex_);
            live_.erase(session);
            if (live_.empty())
                released.swap(keptUntilEmpty_);
        }
    }

    // Closes the set and calls `end` on every session still alive, outside the
    // lock. `keepUntilEmpty` is held until the last of them is gone (see
    // CompletionGuard).
    template <class End>
    void closeAll(End&& end, std::shared_ptr<void> keepUntilEmpty = nullptr)
    {
        std::vector<std::shared_ptr<Session>> alive;
        {
            std::lock_guard lock(mutex_);
            closed_ = true;
            if (!live_.empty() && keepUntilEmpty)
                keptUntilEmpty_.push_back(std::move(keepUntilEmpty));
            for (const auto& entry : live_)
                if (auto session = entry.second.lock())
                    alive.push_back(std::move(session));
        }
        for (const auto& session : alive)
            end(*session);
    }

private:
    std::mutex mutex_;
    bool closed_ = false;
    std::unordered_map<const Session*, std::weak_ptr<Session>> live_;
    std::vector<std::shared_ptr<void>> keptUntilEmpty_;
};

}  // namespace finch::detail

#endif
