// Proves that finch::redis brings hiredis to a user of the Redis backplane:
// a backplane pointed at a loopback port where nothing listens reports the
// refusal that hiredis saw, then stops.
#include <finch/redis_backplane.hpp>

#include <iostream>
#include <string>

int main()
{
    boost::asio::io_context io;
    finch::RedisOptions options;
    options.port = 1;  // privileged and unused on a build machine: the connection is refused
    options.reconnectDelay = std::chrono::milliseconds(10);
    finch::RedisBackplane backplane(io, options);
    bool refused = false;
    bool stopped = false;
    finch::BackplaneHandlers handlers;
    handlers.onEvent = [&](const finch::BackplaneEvent& event) {
        if (event.status == finch::BackplaneStatus::disconnected && !refused) {
            refused = event.error == finch::RedisError::io || event.error == finch::RedisError::connectTimeout;
            backplane.stop([&] { stopped = true; });
        }
    };
    backplane.start(std::move(handlers));
    io.run_for(std::chrono::seconds(10));
    std::cout << "finch::redis " << (refused ? "reported the refusal" : "did not report the refusal") << " ("
              << backplane.lastError() << "), " << (stopped ? "stopped" : "did not stop") << "\n";
    return refused && stopped ? 0 : 1;
}
