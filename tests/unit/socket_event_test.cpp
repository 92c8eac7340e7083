#include <finch/socket_event.hpp>

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

// finch::BasicSocketEvent, the callbacks of a route or of the root: an
// aggregate whose callbacks are all optional (empty until set), in the order
// that designated initializers must follow, each taking the socket type of
// its manager.

namespace {

struct EventSession {
    int visits = 0;
};

template <class Socket>
bool everyCallbackEmpty(const finch::BasicSocketEvent<Socket>& event)
{
    return !event.onConnect && !event.onMessage && !event.onDisconnect && !event.onError && !event.onJoin &&
           !event.onLeave && !event.guard && !event.onRawMessage;
}

}  // namespace

static_assert(std::is_aggregate_v<finch::SocketEvent>);
static_assert(std::is_same_v<finch::SocketEvent, finch::BasicSocketEvent<finch::Socket>>);
static_assert(std::is_same_v<finch::SocketEventWith<EventSession>, finch::BasicSocketEvent<finch::SocketWith<EventSession>>>);
static_assert(std::is_same_v<decltype(finch::SocketEvent::onMessage),
    std::function<void(finch::Socket&, const nlohmann::json&)>>);
static_assert(std::is_same_v<decltype(finch::SocketEventWith<EventSession>::guard),
    std::function<bool(finch::SocketWith<EventSession>&, const nlohmann::json&)>>);
static_assert(std::is_same_v<decltype(finch::SocketEvent::onRawMessage),
    std::function<void(finch::Socket&, std::string_view, finch::MessageKind)>>);

TEST_CASE("SocketEvent: every callback is empty until set", "[socket_event]")
{
    CHECK(everyCallbackEmpty(finch::SocketEvent{}));
    CHECK(everyCallbackEmpty(finch::SocketEventWith<EventSession>{}));
}

TEST_CASE("SocketEvent: an aggregate initializer gives the callbacks in their declared order", "[socket_event]")
{
    std::vector<std::string> calls;
    const auto record = [&calls](const char* name) { return [&calls, name](auto&&...) { calls.emplace_back(name); }; };
    const auto allow = [&calls](auto&&...) {
        calls.emplace_back("guard");
        return true;
    };
#if __cplusplus >= 202002L
    // As the header shows C++20 users.
    const finch::SocketEvent event{
        .onConnect = record("onConnect"),
        .onMessage = record("onMessage"),
        .onDisconnect = record("onDisconnect"),
        .onError = record("onError"),
        .onJoin = record("onJoin"),
        .onLeave = record("onLeave"),
        .guard = allow,
        .onRawMessage = record("onRawMessage"),
    };
#else
    const finch::SocketEvent event{record("onConnect"), record("onMessage"), record("onDisconnect"),
        record("onError"), record("onJoin"), record("onLeave"), allow, record("onRawMessage")};
#endif
    // A handle to no connection: the callbacks above never touch it.
    finch::Socket nowhere(nullptr);
    const nlohmann::json message = {{"path", "anywhere"}};
    event.onConnect(nowhere);
    event.onMessage(nowhere, message);
    event.onDisconnect(nowhere);
    event.onError(nowhere, finch::Error{finch::ErrorCode::invalidJson, "bad"});
    event.onJoin(nowhere, "room");
    event.onLeave(nowhere, "room");
    CHECK(event.guard(nowhere, message));
    event.onRawMessage(nowhere, "raw", finch::MessageKind::text);
    CHECK(calls == std::vector<std::string>{"onConnect", "onMessage", "onDisconnect", "onError", "onJoin", "onLeave",
                       "guard", "onRawMessage"});

    // Only onMessage; the rest stay empty.
    const finch::SocketEvent onlyMessage{{}, record("onMessage")};
    CHECK(onlyMessage.onMessage);
    CHECK_FALSE(onlyMessage.onConnect);
    CHECK_FALSE(onlyMessage.onDisconnect);
    CHECK_FALSE(onlyMessage.guard);
}
