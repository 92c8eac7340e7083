// The example servers that can run as a cluster (finch_demo, chat): with
// --redis HOST:PORT the manager joins the cluster of every server given the
// same Redis (docs/cluster.md). Link finch::redis.
#ifndef FINCH_EXAMPLES_COMMON_CLUSTER_SERVER_HPP
#define FINCH_EXAMPLES_COMMON_CLUSTER_SERVER_HPP

#include "server_main.hpp"

#include <finch/cluster.hpp>
#include <finch/redis_backplane.hpp>

#include <boost/asio/io_context.hpp>

#include <iostream>
#include <memory>
#include <string>

namespace examples {

inline const char* statusName(finch::BackplaneStatus status)
{
    switch (status) {
    case finch::BackplaneStatus::connecting:
        return "connecting";
    case finch::BackplaneStatus::connected:
        return "connected";
    case finch::BackplaneStatus::disconnected:
        return "disconnected";
    case finch::BackplaneStatus::stopped:
        return "stopped";
    }
    return "?";
}

// Joins the cluster when --redis was given; call before listening. Each
// change of the link to Redis is logged, so whoever runs the example sees an
// outage and the recovery.
template <class Manager>
void joinClusterIfAsked(Manager& manager, boost::asio::io_context& context, const ServerSettings& settings)
{
    if (settings.redisHost.empty())
        return;
    finch::RedisOptions redis;
    redis.host = settings.redisHost;
    redis.port = settings.redisPort;
    finch::ClusterOptions cluster;
    cluster.onEvent = [program = settings.program](const finch::BackplaneEvent& event) {
        std::cerr << program << ": redis " << statusName(event.status);
        if (event.error)
            std::cerr << " (" << event.error.message() << ")";
        if (event.dropped != 0)
            std::cerr << ", " << event.dropped << " messages dropped so far";
        std::cerr << std::endl;
    };
    manager.joinCluster(std::make_shared<finch::RedisBackplane>(context.get_executor(), redis), cluster);
    std::cout << settings.program << " node " << manager.nodeId() << " in the cluster of redis " << settings.redisHost
              << ':' << settings.redisPort << std::endl;
}

}  // namespace examples

#endif
