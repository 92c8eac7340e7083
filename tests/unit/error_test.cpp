#include <finch/error.hpp>

#include <catch2/catch.hpp>

TEST_CASE("finch errors convert to error codes of the finch category")
{
    const boost::system::error_code code = finch::error::invalid_json;
    CHECK(code.category().name() == std::string("finch"));
    CHECK(code == finch::error::invalid_json);
    CHECK(code != finch::error::invalid_path);
    CHECK(&code.category() == &finch::errorCategory());
}

TEST_CASE("every finch error has a message and a status")
{
    const std::pair<finch::error, int> expected[] = {
        {finch::error::invalid_json, 400},
        {finch::error::not_an_object, 400},
        {finch::error::invalid_path, 400},
        {finch::error::unknown_path, 404},
        {finch::error::binary_frame, 415},
        {finch::error::handler_exception, 500},
        {finch::error::queue_overflow, 503},
        {finch::error::messages_dropped, 503},
        {finch::error::invalid_id, 400},
        {finch::error::forbidden, 403},
        {finch::error::reply_timeout, 504},
        {finch::error::connection_closed, 503},
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
