#ifndef FINCH_DETAIL_REDIS_BACKOFF_HPP
#define FINCH_DETAIL_REDIS_BACKOFF_HPP

#include <algorithm>
#include <chrono>
#include <random>

namespace finch::detail::redis {

// The waits between reconnection attempts: exponential from `first` to
// `cap`, each drawn between half the step and the whole, so that the
// processes that lost one Redis together spread their returns.
class Backoff {
public:
    Backoff(std::chrono::milliseconds first, std::chrono::milliseconds cap)
        : first_(std::max(first, std::chrono::milliseconds(1)))
        , cap_(std::max(cap, first_))
        , step_(first_)
        , random_(std::random_device{}())
    {
    }

    std::chrono::milliseconds next()
    {
        const auto step = step_;
        step_ = std::min(step_ * 2, cap_);
        std::uniform_int_distribution<long long> draw(step.count() / 2, step.count());
        return std::chrono::milliseconds(draw(random_));
    }

    // After a success, the next failure starts from `first` again.
    void reset() { step_ = first_; }

private:
    std::chrono::milliseconds first_;
    std::chrono::milliseconds cap_;
    std::chrono::milliseconds step_;
    std::minstd_rand random_;
};

}  // namespace finch::detail::redis

#endif
