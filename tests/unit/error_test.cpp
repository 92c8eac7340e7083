#include <finch/error.hpp>

#include <catch2/catch.hpp>

TEST_CASE("finch errors convert to error codes of the finch category")
{
    const boost::system::error_code code = finch::error::invalidJson;
    CHECK(code.category().name() == std::string("finch"));
    CHECK(code == finch::error::invalidJson);
    CHECK(code != finch::error::invalidPath);
    CHECK(&code.category() == &finch::errorCategory());
}

TEST_CASE("every finch error has a message and a status")
{
    const std::pair<finch::error, int> expected[] = {
        {finch::error::invalidJson, 400},
        {finch::error::notAnObject, 400},
        {finch::error::invalidPath, 400},
        {finch::error::unknownPath, 404},
        {finch::error::binaryFrame, 415},
        {finch::error::handlerException, 500},
        {finch::error::queueOverflow, 503},
        {finch::error::messagesDropped, 503},
        {finch::error::invalidId, 400},
        {finch::error::forbidden, 403},
        {finch::error::replyTimeout, 504},
        {finch::error::connectionClosed, 503},
        {finch::error::managerStopped, 503},
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
    const boost::system::error_code code = finch::error::managerStopped;
    CHECK(code.message() == "the manager has been stopped");
    CHECK(finch::statusOf(finch::error::managerStopped) == 503);
}

// The snake_case names of finch 0.1 stay for one release, deprecated, as
// aliases of the camelCase ones: code that compares with them still works.
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#endif
TEST_CASE("the former snake_case names of finch::error are aliases of the new ones")
{
    using finch::error;
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
