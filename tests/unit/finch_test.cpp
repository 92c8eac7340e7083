#include <finch/finch.hpp>

// Before anything else can include them: what <finch/finch.hpp> brought.
namespace {
#if defined(FINCH_TLS_HPP) || defined(FINCH_TLS_CONTEXT_HPP) || defined(FINCH_TLS_TRANSPORT_HPP) || \
    defined(OPENSSL_SSL_H) || defined(HEADER_SSL_H)
constexpr bool umbrellaIncludesOpenSsl = true;
#else
constexpr bool umbrellaIncludesOpenSsl = false;
#endif
#if defined(FINCH_PERMESSAGE_DEFLATE_HPP) || defined(ZLIB_H)
constexpr bool umbrellaIncludesZlib = true;
#else
constexpr bool umbrellaIncludesZlib = false;
#endif
#if defined(FINCH_REDIS_BACKPLANE_HPP) || defined(__HIREDIS_H)
constexpr bool umbrellaIncludesHiredis = true;
#else
constexpr bool umbrellaIncludesHiredis = false;
#endif
}  // namespace

#include <catch2/catch.hpp>

#include <boost/asio/io_context.hpp>

#include <string>
#include <type_traits>

// <finch/finch.hpp>, "the whole of finch": a name from each header it
// includes, and a manager made of them; but none of the parts that need a
// library beyond Boost and nlohmann/json (OpenSSL for <finch/tls.hpp>, zlib
// for <finch/permessage_deflate.hpp>, hiredis for
// <finch/redis_backplane.hpp>), so that a program that uses none of them
// needs none of those libraries.

TEST_CASE("finch.hpp includes no header that needs OpenSSL, zlib or hiredis", "[finch]")
{
    CHECK_FALSE(umbrellaIncludesOpenSsl);
    CHECK_FALSE(umbrellaIncludesZlib);
    CHECK_FALSE(umbrellaIncludesHiredis);
}

TEST_CASE("finch.hpp gives a name from each header it includes, and a manager made of them", "[finch]")
{
    static_assert(FINCH_VERSION >= 0);                                          // version.hpp
    static_assert(std::is_class_v<finch::NoUserData>);                          // user_data.hpp
    static_assert(std::is_class_v<finch::Request>);                             // http.hpp
    static_assert(std::is_class_v<finch::Options>);                            // options.hpp
    static_assert(std::is_class_v<finch::Socket>);                             // socket.hpp
    static_assert(std::is_class_v<finch::SocketManager>);                      // socket_manager.hpp
    static_assert(std::is_class_v<finch::UpgradeDecision>);                    // upgrade.hpp
    CHECK(finch::subprotocolOf(finch::Encoding::msgpack) == "finch.msgpack");  // encoding.hpp
    CHECK(finch::EnvelopeFormat::typeAndPayload().pathMember() == "type");     // envelope_format.hpp
    CHECK(finch::Error{finch::ErrorCode::forbidden, {}}.code == finch::ErrorCode::forbidden);  // error.hpp
    CHECK(static_cast<int>(finch::CloseCode::goingAway) == 1001);                  // close_code.hpp
    CHECK(finch::offeredSubprotocols(finch::Request{}).empty());                // subprotocol.hpp
    CHECK(nlohmann::json::parse(finch::encodeEnvelope("news", 200, 1, "hi"))["path"] == "news");  // envelope.hpp

    boost::asio::io_context context;
    finch::SocketEvent say;                             // socket_event.hpp
    say.guard = finch::requireRoom("staff");            // guards.hpp
    finch::Options options;
    options.envelope = finch::EnvelopeFormat::typeAndPayload();
    {
        finch::SocketManager manager(context, {}, {{"say", say}}, options);
        CHECK(manager.countClients() == 0);
        CHECK(manager.rooms().empty());
    }
    context.run();
}
