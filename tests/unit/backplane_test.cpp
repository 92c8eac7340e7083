#include <finch/backplane.hpp>

#include <catch2/catch.hpp>

#include "support/memory_backplane.hpp"

#include <boost/asio/io_context.hpp>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

// finch::Backplane, the interface a cluster's broker link implements: what
// an event holds by default, that an implementation is used through the
// interface alone (and destroyed through it), and the promises the
// in-memory backplane of the cluster tests (support/memory_backplane.hpp)
// must keep for those tests to mean anything: per-channel order, the
// publisher among the receivers, idempotent subscriptions, and stop().

namespace {

static_assert(std::is_abstract_v<finch::Backplane>);
static_assert(std::has_virtual_destructor_v<finch::Backplane>);

// Records what is asked of it, and calls its handlers when told to.
class RecordingBackplane final : public finch::Backplane {
public:
    explicit RecordingBackplane(std::vector<std::string>& calls) : calls_(calls) { }
    ~RecordingBackplane() override { calls_.push_back("destroyed"); }

    void start(finch::BackplaneHandlers handlers) override
    {
        handlers_ = std::move(handlers);
        calls_.push_back("start");
    }
    void publish(std::string_view channel, std::string_view payload) override
    {
        calls_.push_back("publish " + std::string(channel) + " " + std::string(payload));
    }
    void subscribe(std::string_view channel) override { calls_.push_back("subscribe " + std::string(channel)); }
    void unsubscribe(std::string_view channel) override { calls_.push_back("unsubscribe " + std::string(channel)); }
    void stop(std::function<void()> onStopped) override
    {
        calls_.push_back(onStopped ? "stop with a handler" : "stop");
        if (onStopped)
            onStopped();
    }

    finch::BackplaneHandlers handlers_;

private:
    std::vector<std::string>& calls_;
};

// What a backplane's handlers received.
struct BackplaneRecord {
    std::vector<std::pair<std::string, std::string>> messages;
    std::vector<finch::BackplaneStatus> statuses;

    finch::BackplaneHandlers handlers()
    {
        return {[this](std::string_view channel, std::string_view payload) {
                    messages.emplace_back(channel, payload);
                },
            [this](const finch::BackplaneEvent& event) { statuses.push_back(event.status); }};
    }
};

}  // namespace

TEST_CASE("BackplaneEvent: by default connecting, without an error, nothing dropped", "[backplane]")
{
    const finch::BackplaneEvent event;
    CHECK(event.status == finch::BackplaneStatus::connecting);
    CHECK_FALSE(event.error);
    CHECK(event.dropped == 0);
}

TEST_CASE("Backplane: an implementation is driven and destroyed through the interface alone", "[backplane]")
{
    std::vector<std::string> calls;
    std::unique_ptr<finch::Backplane> backplane = std::make_unique<RecordingBackplane>(calls);
    auto& recording = static_cast<RecordingBackplane&>(*backplane);
    BackplaneRecord record;
    backplane->start(record.handlers());
    backplane->subscribe("app:all");
    backplane->publish("app:all", std::string("\0bytes", 6));
    backplane->unsubscribe("app:all");
    recording.handlers_.onMessage("app:all", "payload");
    recording.handlers_.onEvent({finch::BackplaneStatus::disconnected, {}, 3});
    int stopped = 0;
    backplane->stop([&] { ++stopped; });
    backplane->stop();  // onStopped is optional
    backplane.reset();

    CHECK(calls ==
          std::vector<std::string>{"start", "subscribe app:all", std::string("publish app:all \0bytes", 22),
              "unsubscribe app:all", "stop with a handler", "stop", "destroyed"});
    CHECK(stopped == 1);
    CHECK(record.messages == std::vector<std::pair<std::string, std::string>>{{"app:all", "payload"}});
    CHECK(record.statuses == std::vector<finch::BackplaneStatus>{finch::BackplaneStatus::disconnected});
}

TEST_CASE("the in-memory backplane of the cluster tests keeps the interface's promises", "[backplane]")
{
    boost::asio::io_context context;
    const auto broker = std::make_shared<finch::test::MemoryBroker>();
    const auto publisher = finch::test::MemoryBackplane::make(broker, context.get_executor());
    const auto other = finch::test::MemoryBackplane::make(broker, context.get_executor());
    BackplaneRecord atPublisher;
    BackplaneRecord atOther;
    publisher->start(atPublisher.handlers());
    other->start(atOther.handlers());
    publisher->subscribe("room");
    other->subscribe("room");
    other->subscribe("room");  // idempotent: still one delivery per message
    other->subscribe("elsewhere");
    for (int i = 0; i < 100; ++i)
        publisher->publish("room", std::to_string(i));
    publisher->publish("nobody", "unheard");
    publisher->publish("elsewhere", "last");
    context.run();

    std::vector<std::pair<std::string, std::string>> expected;
    for (int i = 0; i < 100; ++i)
        expected.emplace_back("room", std::to_string(i));
    CHECK(atPublisher.messages == expected);  // the publisher is a subscriber like any other
    expected.emplace_back("elsewhere", "last");
    CHECK(atOther.messages == expected);
    CHECK(atOther.statuses == std::vector<finch::BackplaneStatus>{finch::BackplaneStatus::connected});

    // Unsubscribed, then stopped: nothing more comes in, onStopped runs once.
    other->unsubscribe("room");
    publisher->publish("room", "after unsubscribe");
    int stopped = 0;
    other->stop([&] { ++stopped; });
    publisher->publish("elsewhere", "after stop");
    context.restart();
    context.run();
    CHECK(atOther.messages.size() == 101);
    CHECK(atPublisher.messages.back() == std::pair<std::string, std::string>{"room", "after unsubscribe"});
    CHECK(stopped == 1);
    CHECK(atOther.statuses ==
          std::vector<finch::BackplaneStatus>{finch::BackplaneStatus::connected, finch::BackplaneStatus::stopped});
}
