#include <finch/detail/session/room_membership.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

namespace {
using Membership = finch::detail::RoomMembership;

// What the index saw, as "+room" and "-room".
struct Index {
    std::vector<std::string> calls;
    auto add()
    {
        return [this](const std::string& room) { calls.push_back("+" + room); };
    }
    auto remove()
    {
        return [this](const std::string& room) { calls.push_back("-" + room); };
    }
};

std::vector<std::string> describe(const std::vector<Membership::Change>& changes)
{
    std::vector<std::string> result;
    for (const auto& change : changes)
        result.push_back((change.joined ? "+" : "-") + change.room);
    return result;
}
}  // namespace

TEST_CASE("room membership: joins and leaves change the list and the index once each")
{
    Membership membership;
    Index index;
    CHECK(membership.join("b", true, index.add()).changed);
    CHECK(membership.join("a", true, index.add()).changed);
    CHECK_FALSE(membership.join("a", true, index.add()).changed);
    CHECK(membership.names() == std::vector<std::string>{"a", "b"});
    CHECK(membership.contains("a"));
    CHECK_FALSE(membership.contains("c"));
    CHECK(membership.leave("b", true, index.remove()).changed);
    CHECK_FALSE(membership.leave("b", true, index.remove()).changed);
    CHECK(index.calls == std::vector<std::string>{"+b", "+a", "-b"});
    CHECK(membership.names() == std::vector<std::string>{"a"});
}

TEST_CASE("room membership: the first change of a batch asks for the strand, the rest ride along")
{
    Membership membership;
    Index index;
    CHECK(membership.join("a", true, index.add()).schedule);
    CHECK_FALSE(membership.join("b", true, index.add()).schedule);
    CHECK_FALSE(membership.leave("a", true, index.remove()).schedule);
    CHECK(describe(membership.takeChanges()) == std::vector<std::string>{"+a", "+b", "-a"});
    CHECK(membership.takeChanges().empty());
    CHECK(membership.join("c", true, index.add()).schedule);

    // Unrecorded changes (nobody listens) never ask for the strand.
    const auto quiet = membership.join("d", false, index.add());
    CHECK(quiet.changed);
    CHECK_FALSE(quiet.schedule);
    CHECK(describe(membership.takeChanges()) == std::vector<std::string>{"+c"});
}

TEST_CASE("room membership: close leaves every room, reports what is pending first, and refuses joins")
{
    Membership membership;
    Index index;
    membership.join("a", false, index.add());
    membership.join("b", true, index.add());
    const auto changes = membership.close(index.remove());
    CHECK(describe(changes) == std::vector<std::string>{"+b", "-a", "-b"});
    CHECK(index.calls == std::vector<std::string>{"+a", "+b", "-a", "-b"});
    CHECK(membership.names().empty());
    CHECK_FALSE(membership.join("c", true, index.add()).changed);
    CHECK_FALSE(membership.leave("a", true, index.remove()).changed);
    CHECK(membership.close(index.remove()).empty());
    CHECK(index.calls.size() == 4);
}
