#include <finch/detail/redis/publish_buffer.hpp>

#include <catch2/catch.hpp>

#include <string>

using finch::detail::redis::BufferedMessage;
using finch::detail::redis::PublishBuffer;

TEST_CASE("the outage buffer keeps messages in order within its byte limit")
{
    PublishBuffer buffer(20);
    CHECK(buffer.empty());
    CHECK(buffer.push({"c", "123456789"}) == 0);  // 10 bytes
    CHECK(buffer.push({"c", "abcdefghi"}) == 0);  // 20: full, not over
    CHECK(buffer.size() == 2);
    CHECK(buffer.bytes() == 20);
    CHECK(buffer.pop().payload == "123456789");
    CHECK(buffer.pop().payload == "abcdefghi");
    CHECK(buffer.empty());
    CHECK(buffer.bytes() == 0);
}

TEST_CASE("the outage buffer drops the oldest messages to make room")
{
    PublishBuffer buffer(20);
    buffer.push({"c", "first...."});
    buffer.push({"c", "second..."});
    CHECK(buffer.push({"c", "third...."}) == 1);
    CHECK(buffer.size() == 2);
    CHECK(buffer.pop().payload == "second...");
    // A large one may push out several.
    buffer.push({"c", "x"});
    CHECK(buffer.push({"c", std::string(18, 'y')}) == 2);  // 12 held + 19 > 20: both go
    CHECK(buffer.size() == 1);
    CHECK(buffer.bytes() == 19);
}

TEST_CASE("a message larger than the outage buffer is dropped itself, the buffer kept")
{
    PublishBuffer buffer(10);
    buffer.push({"c", "kept"});
    CHECK(buffer.push({"c", std::string(10, 'z')}) == 1);  // 11 bytes with its channel
    CHECK(buffer.size() == 1);
    CHECK(buffer.pop().payload == "kept");
}

TEST_CASE("clearing the outage buffer says how many messages it held")
{
    PublishBuffer buffer(100);
    buffer.push({"a", "1"});
    buffer.push({"b", "2"});
    buffer.push({"c", std::string(1, '\0')});
    CHECK(buffer.clear() == 3);
    CHECK(buffer.empty());
    CHECK(buffer.bytes() == 0);
}
