#ifndef FINCH_DETAIL_CLUSTER_CLUSTER_NODE_HPP
#define FINCH_DETAIL_CLUSTER_CLUSTER_NODE_HPP

#include <finch/backplane.hpp>
#include <finch/cluster.hpp>
#include <finch/detail/cluster/cluster_message.hpp>
#include <finch/detail/cluster/cluster_queries.hpp>
#include <finch/detail/cluster/node_report.hpp>
#include <finch/detail/cluster/node_table.hpp>
#include <finch/detail/manager/broadcast_envelope.hpp>
#include <finch/detail/manager/completion_guard.hpp>
#include <finch/detail/manager/manager_state.hpp>
#include <finch/detail/session/session.hpp>
#include <finch/detail/websocket/close.hpp>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace finch::detail {

// Calls back a query of the cluster on `executor`, unless the manager is gone.
template <class State>
void postQueryResult(std::weak_ptr<State> state, const boost::asio::any_io_executor& executor,
    ClusterQueries::Finished finished)
{
    boost::asio::post(executor, [state = std::move(state), finished = std::move(finished)]() mutable {
        const auto alive = state.lock();
        if (!alive || alive->detached)
            return;
        // Never out of io_context::run(): that would take the server down.
        try {
            finished.done(std::move(finished.ids), finished.complete);
        } catch (...) {  // NOLINT(bugprone-empty-catch): documented at getAllClientsKeys
        }
    });
}

// One manager's part in a cluster: what it publishes for the sends of its
// application, what it does with what the other nodes publish, its interest
// in rooms and users, and its reports (docs/cluster.md).
//
// Channels, under the prefix "<app>:": "all" (every node), "node:<id>" (its
// own: sends to one of its connections, closes), "control" (reports), and
// "room:<room>" and "user:<user>" while the node has a member of that room
// or a connection of that user. So a node receives no traffic for rooms and
// users it has nobody in.
//
// Lifetime: the manager's state owns it; it holds the state weakly, and the
// backplane's handlers and the report timer hold it weakly, so none of them
// keeps a destroyed manager's state alive.
template <class Transport, class UserData>
class ClusterNode : public std::enable_shared_from_this<ClusterNode<Transport, UserData>> {
public:
    using State = ManagerState<Transport, UserData>;
    using Connection = Session<Transport, UserData>;

    ClusterNode(std::weak_ptr<State> state, boost::asio::any_io_executor executor,
        std::shared_ptr<Backplane> backplane, ClusterOptions options)
        : state_(std::move(state))
        , backplane_(std::move(backplane))
        , options_(std::move(options))
        , prefix_(options_.app + ':')
        , allChannel_(prefix_ + "all")
        , controlChannel_(prefix_ + "control")
        , nodeChannel_(prefix_ + "node:" + options_.nodeId)
        , timer_(boost::asio::make_strand(std::move(executor)))
    {
    }

    const std::string& nodeId() const noexcept { return options_.nodeId; }

    // Subscribes to the node's channels and the rooms and users it already
    // has, and starts reporting.
    void start(State& state)
    {
        backplane_->subscribe(allChannel_);
        backplane_->subscribe(nodeChannel_);
        backplane_->subscribe(controlChannel_);
        const std::weak_ptr<ClusterNode> weak = this->shared_from_this();
        // Under the registries' locks, so that a join or a leave on another
        // thread cannot come between the watch and the first subscriptions.
        state.rooms.watch([weak](const std::string& room, bool exists) {
            if (const auto self = weak.lock())
                self->interest(self->roomChannel(room), exists);
        });
        state.registry.watchUsers([weak](const std::string& user, bool exists) {
            if (const auto self = weak.lock())
                self->interest(self->userChannel(user), exists);
        });
        BackplaneHandlers handlers;
        handlers.onMessage = [weak](std::string_view channel, std::string_view payload) noexcept {
            const auto self = weak.lock();
            if (!self)
                return;
            // A backplane's handlers must not throw; short of memory, the
            // message is lost as the broker would lose it.
            try {
                self->receive(channel, payload);
            } catch (...) {  // NOLINT(bugprone-empty-catch)
            }
        };
        handlers.onEvent = [weak](const BackplaneEvent& event) noexcept {
            if (const auto self = weak.lock())
                self->onEvent(event);
        };
        backplane_->start(std::move(handlers));
        boost::asio::post(timer_.get_executor(), [self = this->shared_from_this()] { self->report(); });
    }

    // Tells the other nodes this one is leaving (they drop it from their
    // counts at once), stops the backplane, and releases `guard` (held by
    // the caller's count) once the backplane has stopped.
    void stop(const std::shared_ptr<CompletionGuard>& guard)
    {
        {
            std::lock_guard lock(mutex_);
            if (stopped_)
                return;
            stopped_ = true;
        }
        boost::asio::post(timer_.get_executor(), [self = this->shared_from_this()] { self->timer_.cancel(); });
        backplane_->publish(controlChannel_, encodeClusterMessage(ClusterKind::leave, nodeId(), {}, {}));
        if (guard)
            guard->hold();
        backplane_->stop([guard] {
            if (guard)
                guard->release();
        });
    }

    // A send of this node's application, already delivered locally, for the
    // other nodes: published once, as the envelope's JSON text.
    void publishAll(std::string_view envelope) { publish(allChannel_, ClusterKind::all, {}, envelope); }
    void publishRoom(std::string_view room, std::string_view envelope)
    {
        publish(roomChannel(room), ClusterKind::room, {}, envelope);
    }
    void publishUser(std::string_view user, std::string_view envelope)
    {
        publish(userChannel(user), ClusterKind::user, {}, envelope);
    }

    // The node a connection id names, if it is another live node's: its
    // first 8 characters, for an id of this cluster's form.
    std::string_view remoteNodeOf(std::string_view id) const
    {
        // Only an id of the form connections get goes on the wire: it is
        // the message's target, in a head that spaces and newlines delimit.
        const auto isHexDigit = [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); };
        if (id.size() != 40 || !std::all_of(id.begin(), id.end(), isHexDigit))
            return {};
        const std::string_view node = id.substr(0, 8);
        if (node == nodeId())
            return {};
        return node;
    }

    // Whether `node` has reported lately: a send to one of its connections
    // is published only then.
    bool knows(std::string_view node) const { return table_.contains(std::string(node)); }

    bool publishClient(std::string_view id, std::string_view envelope)
    {
        const std::string_view node = remoteNodeOf(id);
        if (node.empty() || !knows(node))
            return false;
        publish(prefix_ + "node:" + std::string(node), ClusterKind::client, id, envelope);
        return true;
    }

    bool publishClose(std::string_view id, std::uint16_t code, std::string_view reason)
    {
        const std::string_view node = remoteNodeOf(id);
        if (node.empty() || !knows(node))
            return false;
        std::string payload = std::to_string(code);
        payload += ' ';
        payload += reason;
        publish(prefix_ + "node:" + std::string(node), ClusterKind::close, id, payload);
        return true;
    }

    // The other nodes' counts (the local ones are the registries').
    const NodeTable& others() const noexcept { return table_; }

    // Asks every node that has reported lately for its ids of `what`
    // ("clients", or "room:<room>"), and calls `done` on `executor` with
    // `local` and their answers once all have answered, or with what has
    // come by `timeout`.
    void ask(std::string what, std::vector<std::string> local, ClusterQueries::Done done,
        std::chrono::milliseconds timeout, const boost::asio::any_io_executor& executor)
    {
        std::vector<std::string> waitingFor = table_.nodes();
        if (waitingFor.empty()) {
            finish(ClusterQueries::Finished{std::move(done), std::move(local), true}, {}, executor);
            return;
        }
        const std::string id = nodeId() + '-' + std::to_string(++queryCount_);
        queries_.open(id, std::move(waitingFor), std::move(local), std::move(done));
        auto timer = std::make_shared<boost::asio::steady_timer>(executor, timeout);
        {
            std::lock_guard lock(mutex_);
            queryTimers_[id] = timer;
        }
        timer->async_wait([weak = std::weak_ptr<ClusterNode>(this->shared_from_this()), id, executor](
                              boost::system::error_code ec) {
            const auto self = weak.lock();
            if (ec || !self)
                return;
            self->finish(self->queries_.expire(id), id, executor);
        });
        publish(controlChannel_, ClusterKind::query, id, what);
    }

private:
    std::string roomChannel(std::string_view room) const { return prefix_ + "room:" + std::string(room); }
    std::string userChannel(std::string_view user) const { return prefix_ + "user:" + std::string(user); }

    void publish(const std::string& channel, ClusterKind kind, std::string_view target, std::string_view payload)
    {
        backplane_->publish(channel, encodeClusterMessage(kind, nodeId(), target, payload));
    }

    // Called under a registry's lock, in the order of the joins and leaves,
    // so that the backplane sees them in that order.
    void interest(const std::string& channel, bool on)
    {
        if (on)
            backplane_->subscribe(channel);
        else
            backplane_->unsubscribe(channel);
    }

    void receive(std::string_view channel, std::string_view bytes)
    {
        const auto state = state_.lock();
        if (!state)
            return;
        const auto message = decodeClusterMessage(bytes);
        // Its own sends were delivered locally already.
        if (!message || message->origin == nodeId())
            return;
        switch (message->kind) {
        case ClusterKind::all:
            return deliver(*state, message->payload, [&](auto&& visit) { state->registry.forEach(visit); });
        case ClusterKind::room:
            if (!startsWith(channel, prefix_ + "room:"))
                return;
            return deliver(*state, message->payload, [&, room = channel.substr(prefix_.size() + 5)](auto&& visit) {
                state->rooms.forEachIn(room, visit);
            });
        case ClusterKind::user:
            if (!startsWith(channel, prefix_ + "user:"))
                return;
            return deliver(*state, message->payload, [&, user = channel.substr(prefix_.size() + 5)](auto&& visit) {
                state->registry.forEachOfUser(user, visit);
            });
        case ClusterKind::client:
            return deliver(*state, message->payload,
                [&](auto&& visit) { state->registry.visitClient(message->target, visit); });
        case ClusterKind::close:
            return closeClient(*state, message->target, message->payload);
        case ClusterKind::report:
            return learn(std::string(message->origin), message->payload);
        case ClusterKind::leave:
            table_.remove(std::string(message->origin));
            return;
        case ClusterKind::query:
            return answer(*state, message->origin, message->target, message->payload);
        case ClusterKind::answer:
            return collect(message->origin, message->target, message->payload);
        }
    }

    void answer(State& state, std::string_view asker, std::string_view id, std::string_view what)
    {
        std::vector<std::string> ids;
        if (what == "clients")
            ids = state.registry.ids();
        else if (startsWith(what, "room:"))
            ids = state.rooms.ids(what.substr(5));
        else
            return;
        publish(prefix_ + "node:" + std::string(asker), ClusterKind::answer, id, nlohmann::json(ids).dump());
    }

    void collect(std::string_view node, std::string_view id, std::string_view payload)
    {
        const nlohmann::json parsed = nlohmann::json::parse(payload, nullptr, false);
        if (!parsed.is_array())
            return;
        std::vector<std::string> ids;
        ids.reserve(parsed.size());
        for (const auto& item : parsed)
            if (item.is_string())
                ids.push_back(item.get<std::string>());
        const std::string key(id);
        boost::asio::any_io_executor executor;
        {
            std::lock_guard lock(mutex_);
            const auto timer = queryTimers_.find(key);
            if (timer == queryTimers_.end())
                return;
            executor = timer->second->get_executor();
        }
        finish(queries_.answer(key, std::string(node), std::move(ids)), key, executor);
    }

    // Calls back a query that has ended, on the executor it was asked on.
    void finish(std::optional<ClusterQueries::Finished> finished, const std::string& id,
        const boost::asio::any_io_executor& executor)
    {
        if (!finished)
            return;
        {
            std::lock_guard lock(mutex_);
            const auto timer = queryTimers_.find(id);
            if (timer != queryTimers_.end()) {
                timer->second->cancel();
                queryTimers_.erase(timer);
            }
        }
        postQueryResult(state_, executor, std::move(*finished));
    }

    template <class Visit>
    static void deliver(State& state, std::string_view envelope, Visit&& visit)
    {
        BroadcastEnvelope(state.options, envelope).sendToEach<Connection>(visit);
    }

    static void closeClient(State& state, std::string_view id, std::string_view payload)
    {
        const std::size_t space = payload.find(' ');
        std::uint16_t code = 0;
        const auto parsed = std::from_chars(payload.data(), payload.data() + payload.size(), code);
        if (space == std::string_view::npos || parsed.ptr != payload.data() + space)
            return;
        const std::string_view reason = payload.substr(space + 1);
        if (!isValidClose(code, reason))
            return;
        state.closeLocal(id, code, reason);
    }

    void learn(std::string node, std::string_view payload)
    {
        auto report = parseNodeReport(payload);
        if (!report)
            return;
        const bool known = knows(node);
        table_.update(node, std::move(*report), NodeTable::Clock::now());
        // A node that has just come hears of this one now, not a report
        // interval later: its sends to this node's connections work at once.
        if (!known)
            publishReport();
    }

    void report()
    {
        {
            std::lock_guard lock(mutex_);
            if (stopped_)
                return;
        }
        table_.expire(NodeTable::Clock::now() - options_.nodeTimeout);
        publishReport();
        timer_.expires_after(options_.reportInterval);
        timer_.async_wait([weak = std::weak_ptr<ClusterNode>(this->shared_from_this())](boost::system::error_code ec) {
            if (ec)
                return;
            if (const auto self = weak.lock())
                self->report();
        });
    }

    void publishReport()
    {
        const auto state = state_.lock();
        if (!state)
            return;
        NodeReport report;
        report.clients = state->registry.countClients();
        report.users = state->registry.userIds();
        report.rooms = state->rooms.counts();
        publish(controlChannel_, ClusterKind::report, {}, encodeNodeReport(report));
    }

    void onEvent(const BackplaneEvent& event)
    {
        const auto state = state_.lock();
        if (!state || state->detached || !options_.onEvent)
            return;
        // The application's handler must not take the backplane down; it
        // has no connection whose onError could hear of it.
        try {
            options_.onEvent(event);
        } catch (...) {  // NOLINT(bugprone-empty-catch): documented at ClusterOptions::onEvent
        }
    }

    static bool startsWith(std::string_view text, std::string_view prefix)
    {
        return text.substr(0, prefix.size()) == prefix;
    }

    const std::weak_ptr<State> state_;
    const std::shared_ptr<Backplane> backplane_;
    const ClusterOptions options_;
    const std::string prefix_;
    const std::string allChannel_;
    const std::string controlChannel_;
    const std::string nodeChannel_;
    NodeTable table_;
    ClusterQueries queries_;
    std::atomic<std::uint64_t> queryCount_{0};
    boost::asio::steady_timer timer_;
    std::mutex mutex_;
    bool stopped_ = false;  // guarded by mutex_
    // Each open query's deadline; guarded by mutex_.
    std::unordered_map<std::string, std::shared_ptr<boost::asio::steady_timer>> queryTimers_;
};

}  // namespace finch::detail

#endif
