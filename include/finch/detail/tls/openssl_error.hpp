#ifndef FINCH_DETAIL_TLS_OPENSSL_ERROR_HPP
#define FINCH_DETAIL_TLS_OPENSSL_ERROR_HPP

#include <boost/asio/ssl/error.hpp>
#include <boost/system/error_code.hpp>

#include <openssl/err.h>

namespace finch::detail {

// The calling thread's OpenSSL error as an error_code, and the queue
// emptied, so that the next call starts clean. A failure of the system
// underneath (a file that does not exist) is that system error, errno's
// message and all: OpenSSL's own entries above it only say "system lib".
// Otherwise it is OpenSSL's most specific entry, in Asio's SSL category
// (whose message() is OpenSSL's reason). An empty queue (a failure OpenSSL
// did not explain) becomes protocol_error.
inline boost::system::error_code lastOpenSslError()
{
    boost::system::error_code result;
    for (unsigned long code = ERR_get_error(); code != 0; code = ERR_get_error()) {
        if (ERR_SYSTEM_ERROR(code))
            result = {static_cast<int>(ERR_GET_REASON(code)), boost::system::system_category()};
        else if (!result || result.category() != boost::system::system_category())
            result = {static_cast<int>(code), boost::asio::error::get_ssl_category()};
    }
    if (!result)
        return make_error_code(boost::system::errc::protocol_error);
    return result;
}

}  // namespace finch::detail

#endif
