#ifndef FINCH_DETAIL_CLUSTER_NODE_REPORT_HPP
#define FINCH_DETAIL_CLUSTER_NODE_REPORT_HPP

#include <nlohmann/json.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace finch::detail {

// What a node tells the others every ClusterOptions::reportInterval: its
// local counts, from which each node sums the cluster's. The user ids travel
// whole, so that a user with connections on two nodes counts once.
struct NodeReport {
    std::size_t clients = 0;
    std::vector<std::string> users;
    std::unordered_map<std::string, std::size_t> rooms;  // room: members on that node
};

inline std::string encodeNodeReport(const NodeReport& report)
{
    nlohmann::json rooms = nlohmann::json::object();
    for (const auto& room : report.rooms)
        rooms[room.first] = room.second;
    return nlohmann::json{{"clients", report.clients}, {"users", report.users}, {"rooms", std::move(rooms)}}.dump(
        -1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Nothing for a payload that is not a report.
inline std::optional<NodeReport> parseNodeReport(std::string_view text)
{
    const nlohmann::json parsed = nlohmann::json::parse(text, nullptr, false);
    if (!parsed.is_object())
        return std::nullopt;
    const auto clients = parsed.find("clients");
    const auto users = parsed.find("users");
    const auto rooms = parsed.find("rooms");
    if (clients == parsed.end() || !clients->is_number_unsigned() || users == parsed.end() || !users->is_array() ||
        rooms == parsed.end() || !rooms->is_object())
        return std::nullopt;
    NodeReport report;
    report.clients = clients->get<std::size_t>();
    report.users.reserve(users->size());
    for (const auto& user : *users) {
        if (!user.is_string())
            return std::nullopt;
        report.users.push_back(user.get<std::string>());
    }
    for (const auto& room : rooms->items()) {
        if (!room.value().is_number_unsigned())
            return std::nullopt;
        report.rooms.emplace(room.key(), room.value().get<std::size_t>());
    }
    return report;
}

}  // namespace finch::detail

#endif
