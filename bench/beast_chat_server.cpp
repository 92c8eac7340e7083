// beast_chat_server: the design of Beast's chat-multi example (see
// beast_server.hpp), with the benchmark's two routes, as a plain Beast
// application would write them with nlohmann/json. The reference for
// finch's broadcast.
//
//   beast_chat_server [--port N] [--threads N] [--compression] [--compression-takeover]
//                     [--tls-cert FILE --tls-key FILE]
//
// --tls-cert and --tls-key serve wss:// (beast_server.hpp): the reference
// for finch's broadcast over TLS.
//
// Every frame is parsed; {"path":"echo","data":D} is answered with
// {"data":D,"path":"echo"} and {"path":"broadcast","data":D} sends
// {"data":D,"path":"broadcast"} to everyone (nlohmann writes members in
// alphabetical order). Anything else is ignored.

#include "beast_server.hpp"

#include <nlohmann/json.hpp>

namespace {

struct JsonRouter {
    template <class Session>
    void operator()(Session& session, std::string_view frame) const
    {
        const auto message = nlohmann::json::parse(frame, nullptr, false);
        if (!message.is_object())
            return;  // not JSON, or not an object: nothing to route
        const auto path = message.find("path");
        if (path == message.end() || !path->is_string())
            return;
        const auto data = message.find("data");
        const bool echo = *path == "echo";
        if (!echo && *path != "broadcast")
            return;
        nlohmann::json answer = {{"path", *path}, {"data", data == message.end() ? nlohmann::json() : *data}};
        auto text = std::make_shared<const std::string>(answer.dump());
        if (echo)
            session.deliver(std::move(text));
        else
            session.hub().broadcast(text);
    }
};

}  // namespace

int main(int argc, char** argv)
{
    return bench::runBeastServer<JsonRouter>(argc, argv, "beast_chat_server");
}
