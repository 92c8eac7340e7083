#ifndef FINCH_REDIS_ERROR_HPP
#define FINCH_REDIS_ERROR_HPP

#include <boost/system/error_code.hpp>

#include <string>
#include <type_traits>

namespace finch {

/// Why a `RedisBackplane`'s link to Redis failed, in the `finch.redis` error
/// category: the `error` of a `BackplaneEvent` whose status is
/// `disconnected`.
///
/// hiredis describes its failures with a class (`redisContext::err`) and a
/// text (`errstr`); the class becomes one of these values and the text,
/// which says more (the system's reason, the server's error reply), is kept
/// in `RedisBackplane::lastError()`.
enum class RedisError {
    /// The TCP connection did not complete within `RedisOptions::connectTimeout`.
    connectTimeout = 1,
    /// A system call on the socket failed: the connection was refused, reset,
    /// or could not be made (hiredis' `REDIS_ERR_IO`).
    io,
    /// The server closed the connection (hiredis' `REDIS_ERR_EOF`): Redis
    /// stopped, or it dropped the client (a subscriber past its
    /// `client-output-buffer-limit pubsub`, say).
    closed,
    /// The server sent something that is not RESP (hiredis' `REDIS_ERR_PROTOCOL`).
    protocol,
    /// The server answered `AUTH`, `SELECT` or `SUBSCRIBE` with an error
    /// reply (a wrong password, a database that does not exist).
    rejected,
    /// hiredis ran out of memory, or failed in a way it does not classify
    /// (`REDIS_ERR_OOM`, `REDIS_ERR_OTHER`).
    other,
};

namespace detail {

class RedisErrorCategory final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "finch.redis"; }

    std::string message(int value) const override
    {
        switch (static_cast<RedisError>(value)) {
        case RedisError::connectTimeout:
            return "connecting to Redis timed out";
        case RedisError::io:
            return "I/O error on the connection to Redis";
        case RedisError::closed:
            return "Redis closed the connection";
        case RedisError::protocol:
            return "Redis sent an invalid reply";
        case RedisError::rejected:
            return "Redis refused the connection's setup (AUTH, SELECT or SUBSCRIBE)";
        case RedisError::other:
            return "hiredis failed";
        }
        return "unknown finch.redis error";
    }
};

}  // namespace detail

/// The category of `finch::RedisError` values. One instance per program, so
/// codes compare equal across translation units.
inline const boost::system::error_category& redisErrorCategory() noexcept
{
    static const detail::RedisErrorCategory category;
    return category;
}

/// Makes `finch::RedisError` usable wherever a `boost::system::error_code` is expected.
inline boost::system::error_code make_error_code(RedisError value) noexcept
{
    return {static_cast<int>(value), redisErrorCategory()};
}

}  // namespace finch

namespace boost::system {
/// Lets a `finch::RedisError` convert to `boost::system::error_code`.
template <>
struct is_error_code_enum<finch::RedisError> : std::true_type {
};
}  // namespace boost::system

#endif
