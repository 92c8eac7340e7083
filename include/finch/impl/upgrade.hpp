#ifndef FINCH_IMPL_UPGRADE_HPP
#define FINCH_IMPL_UPGRADE_HPP

#include <finch/upgrade.hpp>

#include <utility>

namespace finch {

template <class UserData>
BasicUpgradeDecision<UserData>::BasicUpgradeDecision(bool accepted, std::string userId, UserData data,
    boost::beast::http::status status, std::string body, Headers headers)
    : accepted_(accepted)
    , userId_(std::move(userId))
    , data_(std::move(data))
    , status_(status)
    , body_(std::move(body))
    , headers_(std::move(headers))
{
}

template <class UserData>
BasicUpgradeDecision<UserData> BasicUpgradeDecision<UserData>::accept(std::string userId, UserData data)
{
    return {true, std::move(userId), std::move(data), boost::beast::http::status::switching_protocols, {}, {}};
}

template <class UserData>
BasicUpgradeDecision<UserData> BasicUpgradeDecision<UserData>::refuse(
    boost::beast::http::status status, std::string body, Headers headers)
{
    return {false, {}, UserData{}, status, std::move(body), std::move(headers)};
}

template <class UserData>
BasicUpgradeDecision<UserData>& BasicUpgradeDecision<UserData>::withSubprotocol(std::string name) &
{
    if (accepted_)
        subprotocol_ = std::move(name);
    return *this;
}

template <class UserData>
BasicUpgradeDecision<UserData> BasicUpgradeDecision<UserData>::withSubprotocol(std::string name) &&
{
    if (accepted_)
        subprotocol_ = std::move(name);
    return std::move(*this);
}

}  // namespace finch

#endif
