#include <finch/close_code.hpp>

#include <finch/socket.hpp>
#include <finch/socket_manager.hpp>

#include <boost/beast/websocket/rfc6455.hpp>
#include <catch2/catch.hpp>

#include <cstdint>
#include <type_traits>
#include <utility>

namespace {

constexpr std::uint16_t valueOf(finch::CloseCode code) noexcept
{
    return static_cast<std::uint16_t>(code);
}

}  // namespace

TEST_CASE("CloseCode's enumerators are the numbers RFC 6455 and IANA give them", "[close_code]")
{
    CHECK(valueOf(finch::CloseCode::normal) == 1000);
    CHECK(valueOf(finch::CloseCode::goingAway) == 1001);
    CHECK(valueOf(finch::CloseCode::protocolError) == 1002);
    CHECK(valueOf(finch::CloseCode::unsupportedData) == 1003);
    CHECK(valueOf(finch::CloseCode::invalidPayload) == 1007);
    CHECK(valueOf(finch::CloseCode::policyViolation) == 1008);
    CHECK(valueOf(finch::CloseCode::messageTooBig) == 1009);
    CHECK(valueOf(finch::CloseCode::internalError) == 1011);
    CHECK(valueOf(finch::CloseCode::serviceRestart) == 1012);
    CHECK(valueOf(finch::CloseCode::tryAgainLater) == 1013);
    // An application's own code is written as a value.
    CHECK(valueOf(finch::CloseCode{4000}) == 4000);
}

TEST_CASE("Beast's close codes, which close() took before CloseCode, carry the same numbers", "[close_code]")
{
    namespace websocket = boost::beast::websocket;
    // The deprecated overloads convert by number: these must agree.
    CHECK(valueOf(finch::CloseCode::normal) == websocket::close_code::normal);
    CHECK(valueOf(finch::CloseCode::goingAway) == websocket::close_code::going_away);
    CHECK(valueOf(finch::CloseCode::protocolError) == websocket::close_code::protocol_error);
    CHECK(valueOf(finch::CloseCode::unsupportedData) == websocket::close_code::unknown_data);
    CHECK(valueOf(finch::CloseCode::invalidPayload) == websocket::close_code::bad_payload);
    CHECK(valueOf(finch::CloseCode::policyViolation) == websocket::close_code::policy_error);
    CHECK(valueOf(finch::CloseCode::messageTooBig) == websocket::close_code::too_big);
    CHECK(valueOf(finch::CloseCode::internalError) == websocket::close_code::internal_error);
    CHECK(valueOf(finch::CloseCode::serviceRestart) == websocket::close_code::service_restart);
    CHECK(valueOf(finch::CloseCode::tryAgainLater) == websocket::close_code::try_again_later);
}

// The member type names before finch's naming rule stay one release,
// deprecated, for the same types.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
static_assert(std::is_same_v<finch::Socket::close_code, boost::beast::websocket::close_code>);
static_assert(std::is_same_v<finch::Socket::user_data_type, finch::Socket::UserDataType>);
static_assert(std::is_same_v<finch::Socket::request_signature, finch::Socket::RequestSignature>);
static_assert(std::is_same_v<finch::SocketManager::socket_type, finch::SocketManager::SocketType>);
static_assert(std::is_same_v<finch::SocketManager::event_type, finch::SocketManager::EventType>);
static_assert(std::is_same_v<finch::SocketManager::user_data_type, finch::SocketManager::UserDataType>);
static_assert(
    std::is_same_v<finch::SocketManager::upgrade_decision_type, finch::SocketManager::UpgradeDecisionType>);
static_assert(
    std::is_same_v<finch::SocketManager::upgrade_completion_type, finch::SocketManager::UpgradeCompletionType>);
static_assert(std::is_same_v<finch::SocketManager::upgrade_handler_type, finch::SocketManager::UpgradeHandlerType>);
static_assert(std::is_same_v<finch::SocketManager::async_upgrade_handler_type,
    finch::SocketManager::AsyncUpgradeHandlerType>);
static_assert(std::is_same_v<finch::TcpTransport::socket_type, finch::TcpTransport::SocketType>);
static_assert(std::is_same_v<finch::TcpTransport::clock_type, finch::TcpTransport::ClockType>);
static_assert(std::is_same_v<finch::TcpTransport::timer_type, finch::TcpTransport::TimerType>);
static_assert(std::is_same_v<finch::BasicUpgradeCompletion<>::decision_type, finch::BasicUpgradeCompletion<>::DecisionType>);
static_assert(std::is_same_v<decltype(std::declval<const finch::Socket&>().close(
                                 boost::beast::websocket::close_code::going_away, "")),
    bool>);
static_assert(std::is_same_v<decltype(std::declval<finch::SocketManager&>().closeClient(
                                 "id", boost::beast::websocket::close_code::going_away, "")),
    bool>);
#pragma GCC diagnostic pop
