#ifndef FINCH_DETAIL_CLUSTER_CLUSTER_MESSAGE_HPP
#define FINCH_DETAIL_CLUSTER_CLUSTER_MESSAGE_HPP

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace finch::detail {

// What one node publishes to the others (docs/cluster.md, "Wire format"):
//
//     finch1 <kind> <origin> <target>\n<payload>
//
// A text head, so that `redis-cli monitor` shows what goes on and a program
// in another language can publish to finch's clients (an "emitter"); the
// payload after it is any bytes. For a send the payload is the envelope's
// JSON text exactly as the origin serialized it: each node frames those
// bytes once for all of its receivers, and never re-encodes them.
enum class ClusterKind {
    all,     // to every connection (channel <app>:all)
    room,    // to a room's members (channel <app>:room:<room>)
    user,    // to a user's connections (channel <app>:user:<user>)
    client,  // to one connection, `target` (channel <app>:node:<node>)
    close,   // closes `target`; payload "<code> <reason>" (channel <app>:node:<node>)
    report,  // a node's counts, JSON (channel <app>:control)
    leave,   // a node has stopped (channel <app>:control)
    query,   // asks every node for ids, `target` the query's id; payload "clients" or "room:<room>" (<app>:control)
    answer,  // one node's ids for query `target`, a JSON array (channel <app>:node:<asking node>)
};

struct ClusterMessage {
    ClusterKind kind = ClusterKind::all;
    std::string_view origin;
    std::string_view target;  // empty when the kind has none
    std::string_view payload;
};

inline constexpr std::string_view clusterMagic = "finch1";

inline std::string_view clusterKindName(ClusterKind kind) noexcept
{
    switch (kind) {
    case ClusterKind::all:
        return "all";
    case ClusterKind::room:
        return "room";
    case ClusterKind::user:
        return "user";
    case ClusterKind::client:
        return "client";
    case ClusterKind::close:
        return "close";
    case ClusterKind::report:
        return "report";
    case ClusterKind::leave:
        return "leave";
    case ClusterKind::query:
        return "query";
    case ClusterKind::answer:
        return "answer";
    }
    return "all";
}

inline std::optional<ClusterKind> clusterKindNamed(std::string_view name) noexcept
{
    for (const ClusterKind kind : {ClusterKind::all, ClusterKind::room, ClusterKind::user, ClusterKind::client,
             ClusterKind::close, ClusterKind::report, ClusterKind::leave, ClusterKind::query, ClusterKind::answer})
        if (clusterKindName(kind) == name)
            return kind;
    return std::nullopt;
}

// `origin` and `target` must hold no space and no newline (node and
// connection ids are hexadecimal); an empty target is written as "-".
inline std::string encodeClusterMessage(
    ClusterKind kind, std::string_view origin, std::string_view target, std::string_view payload)
{
    const std::string_view kindName = clusterKindName(kind);
    if (target.empty())
        target = "-";
    std::string message;
    message.reserve(clusterMagic.size() + kindName.size() + origin.size() + target.size() + 4 + payload.size());
    message += clusterMagic;
    message += ' ';
    message += kindName;
    message += ' ';
    message += origin;
    message += ' ';
    message += target;
    message += '\n';
    message += payload;
    return message;
}

// Nothing for bytes that are not a message of this version: a node ignores
// them (another version of finch, or another program on the channel).
inline std::optional<ClusterMessage> decodeClusterMessage(std::string_view bytes) noexcept
{
    const std::size_t newline = bytes.find('\n');
    if (newline == std::string_view::npos)
        return std::nullopt;
    std::string_view head = bytes.substr(0, newline);
    std::string_view fields[4];
    for (std::size_t i = 0; i < 4; ++i) {
        const std::size_t space = i < 3 ? head.find(' ') : head.size();
        if (space == std::string_view::npos || space == 0)
            return std::nullopt;
        fields[i] = head.substr(0, space);
        head.remove_prefix(i < 3 ? space + 1 : space);
        if (i == 3 && fields[i].find(' ') != std::string_view::npos)
            return std::nullopt;
    }
    if (fields[0] != clusterMagic)
        return std::nullopt;
    const auto kind = clusterKindNamed(fields[1]);
    if (!kind)
        return std::nullopt;
    ClusterMessage message;
    message.kind = *kind;
    message.origin = fields[2];
    message.target = fields[3] == "-" ? std::string_view() : fields[3];
    message.payload = bytes.substr(newline + 1);
    return message;
}

}  // namespace finch::detail

#endif
