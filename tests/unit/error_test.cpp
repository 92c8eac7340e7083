#include <finch/error.hpp>

#include <catch2/catch.hpp>

#include <type_traits>

TEST_CASE("finch errors convert to error codes of the finch category")
{
    const boost::system::error_code code = finch::ErrorCode::invalidJson;
    CHECK(code.category().name() == std::string("finch"));
    CHECK(code == finch::ErrorCode::invalidJson);
    CHECK(code != finch::ErrorCode::invalidPath);
    CHECK(&code.category() == &finch::errorCategory());
}

TEST_CASE("every finch error has a message and a status")
{
    const std::pair<finch::ErrorCode, int> expected[] = {
        {finch::ErrorCode::invalidJson, 400},
        {finch::ErrorCode::notAnObject, 400},
        {finch::ErrorCode::invalidPath, 400},
        {finch::ErrorCode::unknownPath, 404},
        {finch::ErrorCode::binaryFrame, 415},
        {finch::ErrorCode::handlerException, 500},
        {finch::ErrorCode::queueOverflow, 503},
        {finch::ErrorCode::messagesDropped, 503},
        {finch::ErrorCode::invalidId, 400},
        {finch::ErrorCode::forbidden, 403},
        {finch::ErrorCode::replyTimeout, 504},
        {finch::ErrorCode::connectionClosed, 503},
        {finch::ErrorCode::managerStopped, 503},
    };
    for (const auto& [value, status] : expected) {
        const boost::system::error_code code = value;
        INFO(code.message());
        CHECK(finch::statusOf(value) == status);
        CHECK_FALSE(code.message().empty());
        CHECK(code.message() != "unknown finch error");
    }
    CHECK(boost::system::error_code(99, finch::errorCategory()).message() == "unknown finch error");
}

TEST_CASE("managerStopped says that the manager has been stopped")
{
    const boost::system::error_code code = finch::ErrorCode::managerStopped;
    CHECK(code.message() == "the manager has been stopped");
    CHECK(finch::statusOf(finch::ErrorCode::managerStopped) == 503);
}

// The names of finch 0.1 stay for one release, deprecated, as aliases of
// the new ones: code that compares with them still works.
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#endif
TEST_CASE("finch::error and its snake_case enumerators, finch 0.1's names, are aliases of the new ones")
{
    using finch::error;
    static_assert(std::is_same_v<finch::error, finch::ErrorCode>);
    CHECK(error::invalid_json == error::invalidJson);
    CHECK(error::not_an_object == error::notAnObject);
    CHECK(error::invalid_path == error::invalidPath);
    CHECK(error::unknown_path == error::unknownPath);
    CHECK(error::binary_frame == error::binaryFrame);
    CHECK(error::handler_exception == error::handlerException);
    CHECK(error::queue_overflow == error::queueOverflow);
    CHECK(error::messages_dropped == error::messagesDropped);
    CHECK(error::invalid_id == error::invalidId);
    CHECK(error::reply_timeout == error::replyTimeout);
    CHECK(error::connection_closed == error::connectionClosed);
    const boost::system::error_code code = error::invalid_json;
    CHECK(code == error::invalidJson);
    CHECK(finch::statusOf(error::unknown_path) == 404);
}
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
