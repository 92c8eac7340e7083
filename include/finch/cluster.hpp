#ifndef FINCH_CLUSTER_HPP
#define FINCH_CLUSTER_HPP

#include <finch/backplane.hpp>

#include <chrono>
#include <functional>
#include <string>

namespace finch {

/// How a manager takes part in a cluster (`SocketManager::joinCluster`).
/// Every node of one cluster must use the same `app`, and the same
/// `Options::envelope` (the envelopes travel between nodes as JSON text).
struct ClusterOptions {
    /// The prefix of every channel the cluster uses, so that several
    /// applications can share one broker: letters, digits, "-", "_" and ".",
    /// 1 to 64 of them; "finch" by default.
    std::string app = "finch";

    /// This node's id: 8 lowercase hexadecimal digits, unique in the cluster.
    /// Empty (the default) draws a random one. Connection ids start with it,
    /// so that a send to one connection goes to its node only.
    std::string nodeId;

    /// How often the node reports its counts (connections, users, rooms) to
    /// the others. The cluster-wide counts are at most this old, plus the
    /// broker's latency.
    std::chrono::milliseconds reportInterval{2000};

    /// A node that has not reported for this long is taken out of the
    /// cluster-wide counts (it died, or lost its broker). At least twice
    /// `reportInterval`.
    std::chrono::milliseconds nodeTimeout{6000};

    /// Each change of the backplane's state, and messages it dropped (see
    /// `BackplaneEvent`); runs on the backplane's executor. Optional.
    std::function<void(const BackplaneEvent& event)> onEvent;
};

}  // namespace finch

#endif
