#ifndef FINCH_ENVELOPE_FORMAT_HPP
#define FINCH_ENVELOPE_FORMAT_HPP

#include <string>
#include <string_view>

namespace finch {

/// The shape of the JSON objects a manager exchanges with its clients: which
/// member of an incoming message names its route, and which members an
/// outgoing envelope has. Set it in `Options::envelope`.
///
/// Finch's own shape is the default:
/// `{"path": <route>, "status": <int>, "timestamp": <ms>, "data": <value>}`
/// going out, and `{"path": <route>, "data": ...}` coming in. Another protocol
/// whose messages are JSON objects with a route member and a payload member
/// needs no code of its own: `typeAndPayload()` speaks
/// `{"type": <route>, "payload": <value>}`, the shape of the websocket-shootout
/// benchmark and of many JavaScript clients.
///
/// Whatever the format, the handlers see the whole incoming object, every
/// `send` and broadcast writes `path` into the route member and `data` into
/// the data member, and error envelopes use the route `"error"`. The members
/// that pair requests and answers (`"id"`, `"replyTo"`) and `"client"`
/// (`Options::includeClientId`) keep their names.
///
/// Immutable once made; copies are cheap enough for a manager's `Options`.
class EnvelopeFormat {
public:
    /// Finch's format.
    EnvelopeFormat() : EnvelopeFormat("path", "data", "status", "timestamp") {}

    /// A format with these member names. An empty `statusMember` or
    /// `timestampMember` leaves that member out of outgoing envelopes; the
    /// route and data members are required.
    /// @throws std::invalid_argument when `pathMember` or `dataMember` is
    /// empty, or two names are the same.
    EnvelopeFormat(std::string pathMember, std::string dataMember, std::string statusMember = {},
        std::string timestampMember = {});

    /// `{"path", "status", "timestamp", "data"}`: Finch's format, the default.
    static EnvelopeFormat finch() { return EnvelopeFormat(); }

    /// `{"type": <route>, "payload": <value>}`, without status nor timestamp.
    static EnvelopeFormat typeAndPayload() { return EnvelopeFormat("type", "payload"); }

    /// The member that names the route, in both directions.
    const std::string& pathMember() const noexcept { return pathMember_; }
    /// The member that carries an outgoing envelope's data.
    const std::string& dataMember() const noexcept { return dataMember_; }
    /// The member that carries an outgoing envelope's status; empty when left out.
    const std::string& statusMember() const noexcept { return statusMember_; }
    /// The member that carries an outgoing envelope's timestamp; empty when left out.
    const std::string& timestampMember() const noexcept { return timestampMember_; }

    /// For finch's encoder: the JSON text before the route value
    /// (`{"path":`), and the keys (`,"status":`) written before the other
    /// values, computed once so that encoding an envelope only copies them.
    std::string_view headKey() const noexcept { return headKey_; }
    /// For finch's encoder: `,"status":` as this format writes it.
    std::string_view statusKey() const noexcept { return statusKey_; }
    /// For finch's encoder: `,"timestamp":` as this format writes it; empty when left out.
    std::string_view timestampKey() const noexcept { return timestampKey_; }
    /// For finch's encoder: `,"data":` as this format writes it.
    std::string_view dataKey() const noexcept { return dataKey_; }

private:
    std::string pathMember_;
    std::string dataMember_;
    std::string statusMember_;
    std::string timestampMember_;
    std::string headKey_;
    std::string statusKey_;
    std::string timestampKey_;
    std::string dataKey_;
};

}  // namespace finch

#include <finch/impl/envelope_format.hpp>

#endif
