#ifndef FINCH_FINCH_HPP
#define FINCH_FINCH_HPP

/// @file
/// The whole of finch: WebSocket routing on Boost.Beast, in Finch's model.

#include <finch/close_code.hpp>
#include <finch/encoding.hpp>
#include <finch/envelope.hpp>
#include <finch/error.hpp>
#include <finch/guards.hpp>
#include <finch/http.hpp>
#include <finch/options.hpp>
#include <finch/socket.hpp>
#include <finch/socket_event.hpp>
#include <finch/socket_manager.hpp>
#include <finch/subprotocol.hpp>
#include <finch/upgrade.hpp>
#include <finch/user_data.hpp>
#include <finch/version.hpp>

#endif
