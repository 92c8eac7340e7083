#ifndef FINCH_DETAIL_MANAGER_BROADCAST_ENVELOPE_HPP
#define FINCH_DETAIL_MANAGER_BROADCAST_ENVELOPE_HPP

#include <finch/detail/deflate/deflated_frames.hpp>
#include <finch/detail/session/session.hpp>
#include <finch/detail/websocket/out_frame.hpp>
#include <finch/envelope.hpp>
#include <finch/options.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace finch::detail {

// The envelope of one broadcast, framed once per encoding in use among its
// receivers, when the first receiver of that encoding comes: every
// receiver's queue shares the frame of its encoding.
//
// Made from the envelope's parts by a send of this process, or from the JSON
// text of an envelope that another node of the cluster published. The text
// is framed as it is (its bytes copied once, never re-encoded); it is parsed,
// once, only if a receiver speaks MessagePack or CBOR.
class BroadcastEnvelope {
public:
    BroadcastEnvelope(const Options& options, std::string_view path, int status, std::int64_t timestamp,
        const nlohmann::json& data)
        : options_(options), path_(path), status_(status), timestamp_(timestamp), data_(&data)
    {
    }

    BroadcastEnvelope(const Options& options, std::string_view jsonText)
        : options_(options), text_(jsonText), published_(true)
    {
    }

    BroadcastEnvelope(const BroadcastEnvelope&) = delete;
    BroadcastEnvelope& operator=(const BroadcastEnvelope&) = delete;

    // Null when the envelope cannot be written in `encoding`: a published
    // text that is no envelope of this manager's format (another version of
    // the application, say) reaches JSON receivers only.
    const OutFrame* frame(Encoding encoding)
    {
        auto& frame = frames_[static_cast<std::size_t>(encoding)];
        if (frame)
            return &*frame;
        if (encoding == Encoding::json) {
            if (published_)
                return &frame.emplace(dataFrame(Opcode::text, text_));
            std::string bytes = frameBuffer();
            appendEnvelope(bytes, options_.envelope, path_, status_, timestamp_, *data_);
            return &frame.emplace(finishFrame(std::move(bytes)));
        }
        if (!parts())
            return nullptr;
        std::string bytes = frameBuffer();
        appendBinaryEnvelope(bytes, encoding, options_.envelope, path_, status_, timestamp_, *data_);
        return &frame.emplace(finishFrame(std::move(bytes), Opcode::binary));
    }

    // The envelope as JSON text: what a node publishes to the others.
    std::string_view jsonText() { return frame(Encoding::json)->payload(); }

    // Sends to the live connections that `visit` calls its argument with.
    // They are gathered under the registry's (or room's) lock and written to
    // after it is released: an idle receiver's frame is sent on this thread
    // (Outbox::offer), which must not hold up the connections that come and
    // go meanwhile.
    template <class Session, class Visit>
    std::size_t sendToEach(Visit&& visit)
    {
        std::vector<std::shared_ptr<Session>> receivers;
        visit([&](Session& connection) {
            if (auto alive = connection.share())
                receivers.push_back(std::move(alive));
        });
        return sendTo(receivers);
    }

    // Sends each receiver its frame; the receivers that negotiated
    // permessage-deflate share one compressed frame per encoding (the server
    // keeps no context between messages). Returns how many it was queued for.
    template <class Session>
    std::size_t sendTo(const std::vector<std::shared_ptr<Session>>& receivers)
    {
        if (receivers.empty())
            return 0;  // nothing framed: a node with no receiver of a published envelope
        const Compression* const codec = options_.compression.get();
        std::size_t queued = 0;
        if (!speaksBinaryEncoding(options_)) {
            // Every receiver speaks JSON: no choice per receiver (callgrind:
            // 239 instructions per delivery, against 248 through the loop
            // below).
            const OutFrame& json = *frame(Encoding::json);
            DeflatedFrames deflated(json, codec);
            for (std::size_t i = 0; i < receivers.size(); ++i) {
                prefetchAhead(receivers, i);
                if (receivers[i]->sendEnvelope(json, deflated))
                    ++queued;
            }
            return queued;
        }
        std::optional<DeflatedFrames> deflated[3];
        for (std::size_t i = 0; i < receivers.size(); ++i) {
            prefetchAhead(receivers, i);
            const auto& receiver = receivers[i];
            const Encoding encoding = receiver->encoding();
            const auto index = static_cast<std::size_t>(encoding);
            // The client id makes each binary envelope different: written
            // whole per receiver.
            if (encoding != Encoding::json && options_.includeClientId) {
                if (parts() && receiver->sendBinaryEnvelope(path_, status_, timestamp_, *data_))
                    ++queued;
                continue;
            }
            const OutFrame* const shared = frame(encoding);
            if (!shared)
                continue;
            if (!deflated[index])
                deflated[index].emplace(*shared, codec);
            if (receiver->sendEnvelope(*shared, *deflated[index]))
                ++queued;
        }
        return queued;
    }

private:
    // Runs the prefetch stages of the receivers after receivers[i], a
    // receiver apart (Session::prefetch): each stage's lines arrive during
    // the send before the next stage reads a pointer from them. With 1000
    // TLS receivers, the stalls on their cold state were a third of what
    // finch and libssl spent per delivery (perf).
    template <class Session>
    static void prefetchAhead(const std::vector<std::shared_ptr<Session>>& receivers, std::size_t i) noexcept
    {
        constexpr std::size_t stages = 3;
        for (std::size_t stage = 0; stage < stages; ++stage)
            if (i + stages - stage < receivers.size())
                receivers[i + stages - stage]->prefetch(static_cast<int>(stage));
    }

    // Whether path_, status_, timestamp_ and data_ are known: always for a
    // local send; for a published text, once it has parsed as an envelope of
    // this manager's format.
    bool parts()
    {
        if (data_)
            return true;
        if (parseFailed_)
            return false;
        parseFailed_ = true;
        nlohmann::json parsed = nlohmann::json::parse(text_, nullptr, false);
        const EnvelopeFormat& format = options_.envelope;
        if (!parsed.is_object())
            return false;
        const auto path = parsed.find(format.pathMember());
        if (path == parsed.end() || !path->is_string())
            return false;
        if (!format.statusMember().empty()) {
            const auto status = parsed.find(format.statusMember());
            if (status == parsed.end() || !fits<int>(*status))
                return false;
            status_ = status->get<int>();
        }
        if (!format.timestampMember().empty()) {
            const auto timestamp = parsed.find(format.timestampMember());
            if (timestamp == parsed.end() || !fits<std::int64_t>(*timestamp))
                return false;
            timestamp_ = timestamp->get<std::int64_t>();
        }
        pathText_ = path->get<std::string>();
        path_ = pathText_;
        const auto data = parsed.find(format.dataMember());
        if (data != parsed.end())
            parsedData_ = std::move(*data);
        data_ = &parsedData_;
        parseFailed_ = false;
        return true;
    }

    // Whether `value` is an integer that `Integer` holds exactly (a status or
    // a timestamp that another program published may be anything).
    template <class Integer>
    static bool fits(const nlohmann::json& value)
    {
        if (value.is_number_unsigned())
            return value.get<std::uint64_t>() <= static_cast<std::uint64_t>(std::numeric_limits<Integer>::max());
        if (!value.is_number_integer())
            return false;
        const auto number = value.get<std::int64_t>();
        return number >= std::numeric_limits<Integer>::min() && number <= std::numeric_limits<Integer>::max();
    }

    const Options& options_;
    std::string_view path_;
    int status_ = 200;
    std::int64_t timestamp_ = 0;
    const nlohmann::json* data_ = nullptr;
    std::string_view text_;
    bool published_ = false;
    bool parseFailed_ = false;
    std::string pathText_;
    nlohmann::json parsedData_;
    std::optional<OutFrame> frames_[3];
};

}  // namespace finch::detail

#endif
