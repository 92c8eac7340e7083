#include <finch/redis_error.hpp>

#include <catch2/catch.hpp>

#include <string>

TEST_CASE("Redis errors convert to error codes of the finch.redis category, each with its message")
{
    const finch::RedisError all[] = {finch::RedisError::connectTimeout, finch::RedisError::io,
        finch::RedisError::closed, finch::RedisError::protocol, finch::RedisError::rejected, finch::RedisError::other};
    for (const auto value : all) {
        const boost::system::error_code code = value;
        CHECK(code.category().name() == std::string("finch.redis"));
        CHECK(&code.category() == &finch::redisErrorCategory());
        CHECK(code == value);
        CHECK(!code.message().empty());
        CHECK(code.message() != "unknown finch.redis error");
    }
    const boost::system::error_code timeout = finch::RedisError::connectTimeout;
    CHECK(timeout != finch::RedisError::io);
}
