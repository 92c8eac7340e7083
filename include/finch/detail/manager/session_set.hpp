#ifndef FINCH_DETAIL_MANAGER_SESSION_SET_HPP
#define FINCH_DETAIL_MANAGER_SESSION_SET_HPP

#include <finch/detail/manager/completion_guard.hpp>

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

    // Called by a session's destructor; gives back the holds of closeAll()
    // once the last session is gone. CompletionGuard::release() submits no
    // work, so this is safe from a destructor, even while the io_context is
    // being destroyed.
    void remove(const Session* session) noexcept
    {
        std::vector<std::shared_ptr<CompletionGuard>> released;
        {
            std::lock_guard lock(mutex_);
            live_.erase(session);
            if (live_.empty())
                released.swap(heldUntilEmpty_);
        }
        for (const auto& guard : released)
            guard->release();
    }

    // Closes the set and calls `end` on every session still alive, outside the
    // lock. If any is, takes a hold on `guard` and gives it back once the last
    // of them is gone.
    template <class End>
    void closeAll(End&& end, const std::shared_ptr<CompletionGuard>& guard = nullptr)
    {
        std::vector<std::shared_ptr<Session>> alive;
        {
            std::lock_guard lock(mutex_);
            closed_ = true;
            if (!live_.empty() && guard) {
                heldUntilEmpty_.push_back(guard);
                guard->hold();
            }
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
    std::vector<std::shared_ptr<CompletionGuard>> heldUntilEmpty_;
};

}  // namespace finch::detail

#endif
